using System.Text.Json;

namespace Saas.Bench.Csv;

/// <summary>
/// A generated orders CSV and what the benchmark pipeline must make of it: the filter threshold
/// (about the median of qty × price) and exactly how many rows pass it.
/// </summary>
public sealed record OrdersCsvFile(string Path, long Rows, long Bytes, double Threshold, long RowsAboveThreshold)
{
    /// <summary>The generator's version is in the name, so a changed generator never reuses an old file.</summary>
    public static string PathFor(string work, int megabytes, int generatorVersion) =>
        System.IO.Path.Combine(work, $"orders-{megabytes}mb.v{generatorVersion}.csv");

    /// <summary>The cached file, if it was generated completely (its description is written last).</summary>
    public static OrdersCsvFile? Cached(string path)
    {
        var description = DescriptionPath(path);
        if (!File.Exists(path) || !File.Exists(description))
        {
            return null;
        }
        var file = JsonSerializer.Deserialize<OrdersCsvFile>(File.ReadAllText(description));
        return file is not null && new FileInfo(path).Length == file.Bytes ? file with { Path = path } : null;
    }

    public void Describe() => File.WriteAllText(DescriptionPath(Path), JsonSerializer.Serialize(this));

    private static string DescriptionPath(string path) => path + ".json";
}
