using System.Diagnostics;
using System.Text.Json;
using Saas.Bench.Processes;

namespace Saas.Bench.Flowgate;

/// <summary>The Release web host as a child process, with a fresh data directory and its tenants (one unless asked for more).</summary>
public sealed class FlowgateServer(Process process, ChildProcesses children, IReadOnlyList<FlowgateApi> tenants)
{
    public int Pid => process.Id;

    public FlowgateApi Api => tenants[0];

    /// <summary>One API client per tenant, in the order their names were given.</summary>
    public IReadOnlyList<FlowgateApi> Tenants => tenants;

    /// <summary>Builds the web host in Release (quick when up to date) so the benchmark never measures a stale build.</summary>
    public static async Task BuildAsync(ChildProcesses children, BenchPaths paths)
    {
        Console.WriteLine("Building src/Web in Release...");
        var project = Path.Combine(paths.Repository, "src", "Web", "Saas.Web.csproj");
        var build = await children.RunAsync("dotnet", ["build", project, "-c", "Release", "-nologo", "-clp:ErrorsOnly"], TimeSpan.FromMinutes(8));
        if (build.ExitCode != 0)
        {
            throw new InvalidOperationException($"dotnet build src/Web failed:\n{build.Output}{build.Error}");
        }
    }

    public static async Task<FlowgateServer> StartAsync(ChildProcesses children, BenchPaths paths, string name, IEnumerable<string> settings, IReadOnlyList<string>? tenantNames = null)
    {
        var data = paths.FreshWorkFolder($"flowgate-{name}");
        var apiKeys = new List<string>();
        foreach (var tenant in tenantNames ?? ["bench"])
        {
            apiKeys.Add(await CreateTenantAsync(children, paths, data, tenant, settings));
        }
        var port = LoopbackPort.Free();
        var host = children.StartService($"flowgate-{name}", "dotnet",
            [paths.WebHostDll, $"--urls=http://127.0.0.1:{port}", $"--Flowgate:DataDirectory={data}", "--Logging:LogLevel:Default=Warning", .. settings],
            Path.GetDirectoryName(paths.WebHostDll)!, Production);
        var apis = apiKeys.Select(key => new FlowgateApi(new Uri($"http://127.0.0.1:{port}"), key)).ToList();
        await Readiness.WaitUntilAsync(apis[0].IsHealthyAsync, host, "the Flowgate host", children.LogPath($"flowgate-{name}"), TimeSpan.FromSeconds(60));
        return new FlowgateServer(host, children, apis);
    }

    public void Stop()
    {
        foreach (var api in tenants)
        {
            api.Dispose();
        }
        children.Stop(process);
    }

    private static readonly Dictionary<string, string> Production = new() { ["ASPNETCORE_ENVIRONMENT"] = "Production", ["DOTNET_ENVIRONMENT"] = "Production" };

    /// <param name="settings">The host's settings (a database provider, say), so the tenant is created where the host will look.</param>
    private static async Task<string> CreateTenantAsync(ChildProcesses children, BenchPaths paths, string data, string name, IEnumerable<string> settings)
    {
        // --json goes last: before another option, the configuration command line reads it as "json=<that option>".
        var created = await children.RunAsync("dotnet",
            [paths.WebHostDll, "create-tenant", name, $"--Flowgate:DataDirectory={data}", "--Logging:LogLevel:Default=Warning", .. settings, "--json"],
            TimeSpan.FromMinutes(1), Production, Path.GetDirectoryName(paths.WebHostDll));
        var json = created.Output.Split('\n').LastOrDefault(l => l.TrimStart().StartsWith('{'));
        if (created.ExitCode != 0 || json is null)
        {
            throw new InvalidOperationException($"create-tenant failed (exit {created.ExitCode}):\n{created.Output}{created.Error}");
        }
        using var tenant = JsonDocument.Parse(json);
        return tenant.RootElement.GetProperty("apiKey").GetString()!;
    }
}
