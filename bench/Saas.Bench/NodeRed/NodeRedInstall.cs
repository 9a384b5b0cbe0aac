using Saas.Bench.Processes;

namespace Saas.Bench.NodeRed;

/// <summary>Node 24 and Node-RED, installed with npm into bench/.tools.</summary>
public sealed record NodeRedInstall(string Node, string RedJs)
{
    public const string NodeRedPackage = "node-red";
    public const string NodeRedVersion = "5.0.7";

    public static async Task<NodeRedInstall> EnsureAsync(ChildProcesses children, BenchPaths paths)
    {
        var tools = await NodeTools.EnsureAsync(children, paths, NodeRedPackage, NodeRedVersion);
        var install = new NodeRedInstall(tools.Node, Path.Combine(tools.Package(NodeRedPackage), "red.js"));
        return File.Exists(install.RedJs) ? install : throw new InvalidOperationException($"Node-RED is installed but {install.RedJs} is missing");
    }
}
