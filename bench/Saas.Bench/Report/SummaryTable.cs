using Saas.Bench.Csv;
using Saas.Bench.Gateway;
using Saas.Bench.Load;
using Saas.Bench.NodeRed;
using Saas.Bench.Runs;

namespace Saas.Bench.Report;

/// <summary>
/// The final table: Flowgate against Node-RED and against the targets, then the gateway's. A part that did not run shows "-".
/// The runs/s target is judged at <paramref name="throughputConnections"/>, the p50 target at 1 connection. Only the tables of the
/// <paramref name="parts"/> that were asked for are printed.
/// </summary>
public sealed class SummaryTable(int throughputConnections, IReadOnlySet<string> parts)
{
    private readonly List<(string Metric, string Flowgate, string NodeRed, string Ratio, string Target, string Verdict)> _rows = [];

    public ThreeStepRunsResult? Runs { get; set; }
    public CsvThroughputResult? Csv { get; set; }
    public NodeRedResult? NodeRed { get; set; }
    public GatewayResult? Gateway { get; set; }
    public Noisy.NoisyNeighbourResult? Noisy { get; set; }
    public List<string> Failures { get; } = [];
    public List<string> Warnings { get; } = [];

    public void Print()
    {
        _rows.Clear();
        foreach (var connections in ConnectionCounts())
        {
            var runs = At(Runs?.Loads, connections)?.Load;
            var red = At(NodeRed?.Loads, connections)?.Load;
            var at = LoadMeasurement.Count(connections, "connection");
            var throughput = connections == throughputConnections;
            var latency = connections == Targets.LatencyConnections;
            Row($"runs/s at {at}" + (throughput ? " (req/s for Node-RED)" : ""), runs?.RequestsPerSecond, red?.RequestsPerSecond, "N0", higherIsBetter: true,
                throughput ? $"≥ {Targets.RunsPerSecond:N0}" : "", throughput ? v => v >= Targets.RunsPerSecond : null);
            Row($"p50 at {at} (ms)", runs?.P50Ms, red?.P50Ms, "0.00", higherIsBetter: false,
                latency ? $"≤ {Targets.RunsP50Ms}" : "", latency ? v => v <= Targets.RunsP50Ms : null);
            Row($"p99 at {at} (ms)", runs?.P99Ms, red?.P99Ms, "0.00", higherIsBetter: false, "", null);
        }
        Row("non-2xx + socket errors (all loads)", Errors(Runs?.Loads), Errors(NodeRed?.Loads), "N0", higherIsBetter: false, "0", v => v == 0);
        Row("runs failed or unfinished", Runs is null ? null : Runs.RunsFailed + Runs.RunsUnfinished, null, "N0", higherIsBetter: false, "0", v => v == 0);
        Row($"server CPU at {LoadMeasurement.Count(throughputConnections, "connection")} (% of a core)",
            At(Runs?.Loads, throughputConnections)?.Cpu.ProcessPercent, At(NodeRed?.Loads, throughputConnections)?.Cpu.ProcessPercent, "0", higherIsBetter: null, "", null);
        Row("CSV records/s", Csv?.RecordsPerSecond, null, "N0", higherIsBetter: true, $"≥ {Targets.CsvRecordsPerSecond:N0}", v => v >= Targets.CsvRecordsPerSecond);
        Row("CSV peak memory (MB)", Csv?.PeakMemoryMegabytes, null, "N0", higherIsBetter: false, $"≤ {Targets.PeakMemoryMegabytes}", v => v <= Targets.PeakMemoryMegabytes);
        Row("CSV output (MB)", Csv is null ? null : Csv.OutputBytes / 1048576.0, null, "N0", higherIsBetter: true, "", null);
        if (Csv is not null)
        {
            var verified = Csv.Problems.Count == 0;
            _rows.Add(("CSV counts verified", verified ? "yes" : "no", "-", "", "yes", verified ? "PASS" : "MISS"));
        }

        if (parts.Overlaps([BenchOptions.Runs, BenchOptions.Csv, BenchOptions.NodeRed]))
        {
            Console.WriteLine("\n== Summary ==");
            TextTable.Print(["", "Flowgate", "Node-RED", "Flowgate/Node-RED", "target", ""],
                _rows.Select(r => new[] { r.Metric, r.Flowgate, r.NodeRed, r.Ratio, r.Target, r.Verdict }));
        }
        if (Csv is not null)
        {
            Console.WriteLine($"CSV: {Csv.Input.Rows:N0} rows ({Csv.Input.Bytes / 1048576.0:N0} MB) in {Csv.Wall.TotalSeconds:0.0} s = upload {Csv.Upload.TotalSeconds:0.0} s + processing {Csv.Processing.TotalSeconds:0.0} s");
        }
        if (Gateway is not null)
        {
            GatewayTable.Print(Gateway, throughputConnections);
        }
        if (Noisy is not null)
        {
            Saas.Bench.Noisy.NoisyNeighbourBenchmark.Print(Noisy);
        }
        foreach (var warning in Warnings)
        {
            Console.WriteLine($"WARNING: {warning}");
        }
        foreach (var failure in Failures)
        {
            Console.WriteLine($"FAILED: {failure}");
        }
    }

    /// <summary>The throughput load first, then the others from most to fewest connections; the two with a target always.</summary>
    private IEnumerable<int> ConnectionCounts() =>
        (Runs?.Loads ?? []).Concat(NodeRed?.Loads ?? []).Select(l => l.Connections).Append(throughputConnections).Append(Targets.LatencyConnections)
            .Distinct().OrderByDescending(c => c == throughputConnections).ThenByDescending(c => c);

    private static LoadMeasurement? At(IReadOnlyList<LoadMeasurement>? loads, int connections) => loads?.FirstOrDefault(l => l.Connections == connections);

    private static double? Errors(IReadOnlyList<LoadMeasurement>? loads) => loads?.Sum(l => l.Load.Non2xx + l.Load.SocketErrors);

    private void Row(string metric, double? flowgate, double? nodeRed, string format, bool? higherIsBetter, string target, Func<double, bool>? meets)
    {
        var ratio = flowgate is { } f && nodeRed is { } n && n != 0 && higherIsBetter is { } higher ? $"{f / n:0.00}x" + (higher ? "" : " (lower is better)") : "";
        var verdict = flowgate is { } value && meets is not null ? (meets(value) ? "PASS" : "MISS") : "";
        _rows.Add((metric, Format(flowgate, format), Format(nodeRed, format), ratio, target, verdict));
    }

    private static string Format(double? value, string format) => value?.ToString(format, System.Globalization.CultureInfo.InvariantCulture) ?? "-";
}
