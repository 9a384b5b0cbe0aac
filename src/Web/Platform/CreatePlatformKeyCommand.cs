using System.Text.Json;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Platform;

/// <summary><c>create-platform-key &lt;name&gt; [--json]</c>: a key for the platform API, printed once.</summary>
public static class CreatePlatformKeyCommand
{
    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var name = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (string.IsNullOrWhiteSpace(name))
        {
            await Console.Error.WriteLineAsync("usage: create-platform-key <name> [--json]");
            return 2;
        }
        var key = await app.Services.GetRequiredService<PlatformKeyStore>().CreateAsync(name, CancellationToken.None);
        if (args.Contains("--json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new { id = key.Id, name = key.Name, apiKey = key.Secret }));
        }
        else
        {
            Console.WriteLine($"Created platform key '{key.Name}' ({key.Id})");
            Console.WriteLine($"  key: {key.Secret}");
            Console.WriteLine("It opens /api/platform/v1 (plans, tenants' billing, suspension). It is shown once: store it now.");
        }
        return 0;
    }
}
