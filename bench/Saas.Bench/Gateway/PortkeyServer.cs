using System.Diagnostics;
using System.Net;
using Saas.Bench.Processes;

namespace Saas.Bench.Gateway;

/// <summary>
/// Portkey's open-source gateway (<c>@portkey-ai/gateway</c>, its Node server <c>build/start-server.js</c>) on Node 24,
/// as a child process bound to 127.0.0.1 by <c>loopback.mjs</c>, forwarding to the upstream named in each request's headers.
/// </summary>
public sealed class PortkeyServer(Process process, ChildProcesses children, int port)
{
    public const string Package = "@portkey-ai/gateway";
    public const string Version = "1.15.2";

    public int Pid => process.Id;

    public Uri ChatUrl => new($"http://127.0.0.1:{port}{UpstreamServer.ChatPath}");

    /// <summary>Portkey's way of saying "OpenAI's format, at this host, with this key".</summary>
    public static IReadOnlyDictionary<string, string> Headers(Upstream upstream) => new Dictionary<string, string>
    {
        ["x-portkey-provider"] = "openai",
        ["x-portkey-custom-host"] = upstream.BaseUrl,
        ["Authorization"] = $"Bearer {GatewayBenchmark.ProviderKey}",
    };

    public static async Task<PortkeyServer> StartAsync(ChildProcesses children, BenchPaths paths)
    {
        var tools = await NodeTools.EnsureAsync(children, paths, Package, Version);
        var script = Path.Combine(tools.Package(Package), "build", "start-server.js");
        var loopback = Path.Combine(AppContext.BaseDirectory, "Gateway", "loopback.mjs");
        var port = LoopbackPort.Free();
        // --port=N is the only address option start-server.js reads; --headless leaves out its web UI.
        var node = children.StartService("portkey", tools.Node, ["--import", new Uri(loopback).AbsoluteUri, script, $"--port={port}", "--headless"],
            paths.FreshWorkFolder("portkey"));
        var server = new PortkeyServer(node, children, port);
        using var http = new HttpClient();
        await Readiness.WaitUntilAsync(async () => (await http.GetAsync($"http://127.0.0.1:{port}/")).IsSuccessStatusCode,
            node, "Portkey", children.LogPath("portkey"), TimeSpan.FromSeconds(60));
        var addresses = LoopbackPort.ListeningAddresses(port);
        if (addresses.Any(a => !IPAddress.IsLoopback(a)))
        {
            throw new InvalidOperationException($"Portkey listens on {string.Join(", ", addresses)}, not only on 127.0.0.1: {loopback} did not take effect");
        }
        return server;
    }

    public void Stop() => children.Stop(process);
}
