using System.Diagnostics;
using Saas.Bench.Processes;

namespace Saas.Bench.Gateway;

/// <summary>The benchmark's side of <see cref="UpstreamServer"/>: the child process, its base URL and its answer count.</summary>
public sealed class Upstream(Process process, ChildProcesses children, int port) : IDisposable
{
    private readonly HttpClient _http = new() { BaseAddress = new Uri($"http://127.0.0.1:{port}") };

    public int Pid => process.Id;

    /// <summary>What a client puts before <c>/chat/completions</c>.</summary>
    public string BaseUrl => $"http://127.0.0.1:{port}/v1";

    public Uri ChatUrl => new($"http://127.0.0.1:{port}{UpstreamServer.ChatPath}");

    /// <summary>Starts this same executable in upstream mode.</summary>
    public static async Task<Upstream> StartAsync(ChildProcesses children)
    {
        var port = LoopbackPort.Free();
        var dll = typeof(UpstreamServer).Assembly.Location;
        var child = children.StartService("upstream", "dotnet", [dll, UpstreamServer.Mode, "--port", port.ToString()], Path.GetDirectoryName(dll)!);
        var upstream = new Upstream(child, children, port);
        await Readiness.WaitUntilAsync(async () => await upstream.AnsweredAsync() >= 0, child, "the upstream", children.LogPath("upstream"), TimeSpan.FromSeconds(30));
        return upstream;
    }

    /// <summary>How many chat completions the upstream has answered since it started.</summary>
    public async Task<long> AnsweredAsync() => long.Parse(await _http.GetStringAsync(UpstreamServer.CountPath));

    public void Dispose()
    {
        _http.Dispose();
        children.Stop(process);
    }
}
