namespace Saas.Functions.Tests;

internal static class Repository
{
    /// <summary>The folder holding Saas.sln, found upwards from the test binaries.</summary>
    public static string Root { get; } = Find();

    private static string Find()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Saas.sln")))
            {
                return directory.FullName;
            }
        }
        throw new InvalidOperationException($"no Saas.sln above {AppContext.BaseDirectory}");
    }
}
