using System.Text.Json;
using Saas.Pipelines.Tenancy;

namespace Saas.Web.Tenancy;

/// <summary><c>create-tenant &lt;name&gt; [--json]</c>: creates a tenant and prints its first API key, once.</summary>
public static class CreateTenantCommand
{
    public static async Task<int> RunAsync(WebApplication app, string[] args)
    {
        var name = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (string.IsNullOrWhiteSpace(name))
        {
            await Console.Error.WriteLineAsync("usage: create-tenant <name> [--json]");
            return 2;
        }
        var (tenant, key) = await app.Services.GetRequiredService<TenantStore>().CreateTenantAsync(name, CancellationToken.None);
        if (args.Contains("--json"))
        {
            Console.WriteLine(JsonSerializer.Serialize(new { tenantId = tenant.Id, name = tenant.Name, apiKey = key.Secret }));
        }
        else
        {
            Console.WriteLine($"Created tenant '{tenant.Name}'");
            Console.WriteLine($"  tenant id: {tenant.Id}");
            Console.WriteLine($"  api key:   {key.Secret}");
            Console.WriteLine("The key is shown once: store it now.");
        }
        return 0;
    }
}
