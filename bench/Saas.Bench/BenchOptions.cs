namespace Saas.Bench;

/// <summary>Command-line options: which parts to run, how long, and how big the CSV is.</summary>
public sealed record BenchOptions(IReadOnlySet<string> Parts, int CsvMegabytes, int ChunkSize, TimeSpan Duration, TimeSpan Warmup, int Connections, int Threads, int? Workers = null, int Flood = 50_000, int Rounds = 3, IReadOnlyList<string>? Settings = null)
{
    public const string Runs = "runs";
    public const string Csv = "csv";
    public const string NodeRed = "nodered";
    public const string Gateway = "gateway";
    public const string Noisy = "noisy";

    public const string Usage = """
        usage: bench/run.sh [--only runs|csv|nodered|gateway|noisy[,...]] [--csv-mb 1024] [--chunk-size 50000]
                            [--duration 15] [--warmup 10] [--connections 32] [--threads 2] [--workers N] [--flood 50000] [--rounds 3]
                            [--set Flowgate:Section:Key=value ...]
        """;

    private static readonly string[] AllParts = [Runs, Csv, NodeRed, Gateway, Noisy];

    public bool Includes(string part) => Parts.Contains(part);

    /// <summary>Settings passed to the Flowgate host: the number of embedded workers, if chosen, and every <c>--set</c>.</summary>
    public IEnumerable<string> HostSettings =>
        (Workers is { } workers ? [$"--Flowgate:Runtime:Workers={workers}"] : Array.Empty<string>()).Concat((Settings ?? []).Select(s => $"--{s}"));

    /// <summary>
    /// For the parts that load one tenant as hard as they can: the tenant API's request rate limit (decision 024) at
    /// its maximum, so they measure the engine, not the limiter.
    /// </summary>
    public IEnumerable<string> UnlimitedHostSettings => HostSettings.Concat(["--Flowgate:Limits:RequestsPerSecond=1000000", "--Flowgate:Limits:RequestBurst=10000000",
        "--Flowgate:Limits:NewWorkPerSecond=10000000", "--Flowgate:Limits:NewWorkBurst=100000000"]);

    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(AllParts.ToHashSet(), CsvMegabytes: 1024, ChunkSize: 50_000,
            Duration: TimeSpan.FromSeconds(15), Warmup: TimeSpan.FromSeconds(10), Connections: 32, Threads: 2);
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value.\n{Usage}");
            options = args[i] switch
            {
                "--only" => options with { Parts = OnlyParts(value) },
                "--csv-mb" => options with { CsvMegabytes = Positive(args[i], value) },
                "--chunk-size" => options with { ChunkSize = Positive(args[i], value) },
                "--duration" => options with { Duration = TimeSpan.FromSeconds(Positive(args[i], value)) },
                "--warmup" => options with { Warmup = TimeSpan.FromSeconds(Positive(args[i], value)) },
                "--connections" => options with { Connections = Positive(args[i], value) },
                "--threads" => options with { Threads = Positive(args[i], value) },
                "--workers" => options with { Workers = Positive(args[i], value) },
                "--flood" => options with { Flood = Positive(args[i], value) },
                "--rounds" => options with { Rounds = Positive(args[i], value) },
                "--set" when value.Contains('=') => options with { Settings = [.. options.Settings ?? [], value] },
                _ => throw new ArgumentException($"unknown option {args[i]}.\n{Usage}"),
            };
            i++;
        }
        return options;
    }

    private static HashSet<string> OnlyParts(string value)
    {
        var parts = value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var unknown = parts.Except(AllParts).ToList();
        return unknown.Count == 0 && parts.Count > 0
            ? parts
            : throw new ArgumentException($"--only takes {string.Join(", ", AllParts)}; got '{value}'.\n{Usage}");
    }

    private static int Positive(string name, string value) =>
        int.TryParse(value, out var number) && number > 0 ? number : throw new ArgumentException($"{name} must be a positive integer, got '{value}'.\n{Usage}");
}
