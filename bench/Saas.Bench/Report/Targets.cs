namespace Saas.Bench.Report;

/// <summary>What Flowgate is expected to reach on this 2-core machine.</summary>
public static class Targets
{
    public const double RunsPerSecond = 2_000;
    public const double RunsP50Ms = 2;

    /// <summary>The p50 target is judged at one connection: at 32, Little's law keeps p50 near 32 / runs/s.</summary>
    public const int LatencyConnections = 1;
    public const double CsvRecordsPerSecond = 300_000;
    public const double PeakMemoryMegabytes = 300;

    /// <summary>The AI gateway: chat completions per second through Flowgate at the throughput load.</summary>
    public const double GatewayRequestsPerSecond = 10_000;

    /// <summary>The AI gateway: p50 through Flowgate minus p50 of the upstream called directly, at 1 connection.</summary>
    public const double GatewayAddedP50Ms = 0.5;
}
