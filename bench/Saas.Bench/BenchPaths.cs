namespace Saas.Bench;

/// <summary>Where things are: the repository, the web host's Release build, and the gitignored work and tools folders.</summary>
public sealed record BenchPaths(string Repository)
{
    public string Bench => Path.Combine(Repository, "bench");
    public string Work => Path.Combine(Bench, ".work");
    public string Tools => Path.Combine(Bench, ".tools");
    public string Logs => Path.Combine(Work, "logs");
    public string WebHostDll => Path.Combine(Repository, "src", "Web", "bin", "Release", "net10.0", "Saas.Web.dll");
    public string WrkScript => Path.Combine(AppContext.BaseDirectory, "Load", "post.lua");

    /// <summary>Finds the repository from the current directory upwards (the folder holding Saas.sln).</summary>
    public static BenchPaths Find()
    {
        for (var dir = new DirectoryInfo(Environment.CurrentDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Saas.sln")))
            {
                return new BenchPaths(dir.FullName);
            }
        }
        throw new InvalidOperationException("Run the benchmark from inside the repository (no Saas.sln found above the current directory).");
    }

    /// <summary>A new, empty folder under .work for one part's data.</summary>
    public string FreshWorkFolder(string name)
    {
        var path = Path.Combine(Work, name);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        Directory.CreateDirectory(path);
        return path;
    }
}
