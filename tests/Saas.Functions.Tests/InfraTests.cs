using System.Diagnostics;

namespace Saas.Functions.Tests;

/// <summary>Every Bicep file under infra/ compiles with the Bicep CLI, with no error and no warning (linter included).</summary>
public sealed class InfraTests
{
    private const string BicepVersion = "0.49.2";

    public static TheoryData<string> BicepFiles() => new(Files());

    private static IEnumerable<string> Files() =>
        Directory.EnumerateFiles(Path.Combine(Repository.Root, "infra"), "*.bicep", SearchOption.AllDirectories)
            .Select(file => Path.GetRelativePath(Repository.Root, file))
            .Order(StringComparer.Ordinal);

    [Theory]
    [MemberData(nameof(BicepFiles))]
    public async Task Bicep_file_compiles_without_errors_or_warnings(string file)
    {
        var output = Directory.CreateTempSubdirectory("flowgate-bicep-");
        try
        {
            var start = new ProcessStartInfo(BicepCli(), ["build", Path.Combine(Repository.Root, file), "--outdir", output.FullName])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                WorkingDirectory = Repository.Root,
            };
            using var bicep = Process.Start(start)!;
            var stdout = bicep.StandardOutput.ReadToEndAsync();
            var stderr = bicep.StandardError.ReadToEndAsync();
            await bicep.WaitForExitAsync();
            // Each diagnostic line reads "path(line,column) : Warning|Error CODE: message".
            var diagnostics = (await stderr + await stdout).Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            Assert.True(bicep.ExitCode == 0 && diagnostics.Length == 0,
                $"bicep build {file} exited {bicep.ExitCode} with:\n{string.Join('\n', diagnostics)}");
            Assert.True(File.Exists(Path.Combine(output.FullName, Path.ChangeExtension(Path.GetFileName(file), ".json"))), $"bicep build {file} wrote no ARM template");
        }
        finally
        {
            output.Delete(recursive: true);
        }
    }

    [Fact]
    public void Infra_holds_the_main_template_and_its_modules()
    {
        var files = Files().ToList();
        Assert.Contains(Path.Combine("infra", "main.bicep"), files);
        Assert.True(files.Count >= 8, $"expected main.bicep and its modules, found {string.Join(", ", files)}");
    }

    /// <summary>The CLI from the NuGet package (PackageDownload in this project), made executable if the cache lost the bit.</summary>
    private static string BicepCli()
    {
        var packages = Environment.GetEnvironmentVariable("NUGET_PACKAGES")
            ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        var cli = Path.Combine(packages, "azure.bicep.commandline.linux-x64", BicepVersion, "tools", "bicep");
        Assert.True(File.Exists(cli), $"the Bicep CLI is not at {cli}: restore tests/Saas.Functions.Tests (its PackageDownload of Azure.Bicep.CommandLine.linux-x64 {BicepVersion} puts it there)");
        if (!OperatingSystem.IsWindows())
        {
            var mode = File.GetUnixFileMode(cli);
            const UnixFileMode executable = UnixFileMode.UserExecute | UnixFileMode.GroupExecute | UnixFileMode.OtherExecute;
            if ((mode & executable) != executable)
            {
                File.SetUnixFileMode(cli, mode | executable);
            }
        }
        return cli;
    }
}
