using System.Diagnostics;
using System.Text;
using Saas.Bench.Processes;

namespace Saas.Bench.NodeRed;

/// <summary>Node-RED as a child process with its own settings file, user directory and flow.</summary>
public sealed class NodeRedServer(Process process, ChildProcesses children, Uri runUrl)
{
    public int Pid => process.Id;

    public Uri RunUrl => runUrl;

    public static async Task<NodeRedServer> StartAsync(ChildProcesses children, BenchPaths paths, NodeRedInstall install)
    {
        var userDir = paths.FreshWorkFolder("nodered");
        var port = LoopbackPort.Free();
        var settings = Path.Combine(userDir, "settings.js");
        await File.WriteAllTextAsync(settings, NodeRedFlow.Settings(port, userDir));
        await File.WriteAllTextAsync(Path.Combine(userDir, "flows.json"), NodeRedFlow.Json());
        var node = children.StartService("nodered", install.Node, [install.RedJs, "--settings", settings, "--userDir", userDir], userDir);
        var server = new NodeRedServer(node, children, new Uri($"http://127.0.0.1:{port}{NodeRedFlow.Path}"));
        await Readiness.WaitUntilAsync(async () => await server.PostAsync(Flowgate.PipelineDefinitions.SmallRecord) is not null,
            node, "Node-RED", children.LogPath("nodered"), TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>The response body of one POST /run, or null if it did not answer 200.</summary>
    public async Task<string?> PostAsync(string record)
    {
        using var http = new HttpClient();
        using var response = await http.PostAsync(runUrl, new StringContent(record, Encoding.UTF8, "application/json"));
        return response.IsSuccessStatusCode ? await response.Content.ReadAsStringAsync() : null;
    }

    public void Stop() => children.Stop(process);
}
