using System.Globalization;
using Saas.Bench.Gateway;
using Saas.Bench.Load;

namespace Saas.Bench.Report;

/// <summary>The gateway part's table: the upstream directly, Flowgate and Portkey; the targets are Flowgate's.</summary>
public static class GatewayTable
{
    /// <summary>Measured on this machine earlier, quoted in issue 4.</summary>
    private const string EarlierFigures = "direct 31,600 req/s; Portkey 1,550 req/s with p50 18.3 ms at 32 connections and +0.9 ms p50 at 1 connection";

    public static void Print(GatewayResult result, int throughputConnections)
    {
        var at = LoadMeasurement.Count(throughputConnections, "connection");
        var one = LoadMeasurement.Count(Targets.LatencyConnections, "connection");
        GatewayLoads?[] targets = [result.Direct, result.Flowgate, result.Portkey];
        var rows = new List<string[]>
        {
            Row($"requests/s at {at} (median of {GatewayBenchmark.ThroughputLoads})", targets, l => l.At(throughputConnections)?.Load.RequestsPerSecond, "N0",
                $"≥ {Targets.GatewayRequestsPerSecond:N0}", v => v >= Targets.GatewayRequestsPerSecond),
            Row($"p50 at {at} (ms)", targets, l => l.At(throughputConnections)?.Load.P50Ms, "0.00"),
            Row($"p99 at {at} (ms)", targets, l => l.At(throughputConnections)?.Load.P99Ms, "0.00"),
            Row($"p50 at {one} (ms)", targets, l => l.At(Targets.LatencyConnections)?.Load.P50Ms, "0.00"),
            Row($"p99 at {one} (ms)", targets, l => l.At(Targets.LatencyConnections)?.Load.P99Ms, "0.00"),
            Row($"added p50 at {one} vs direct (ms)", [null, result.Flowgate, result.Portkey], l => AddedP50(l, result.Direct), "0.00",
                $"≤ {Targets.GatewayAddedP50Ms}", v => v <= Targets.GatewayAddedP50Ms),
            Row("non-2xx (all loads)", targets, l => l.Loads.Sum(m => m.Load.Non2xx), "N0", "0", v => v == 0),
            Row("socket errors/timeouts (all loads)", targets, l => l.Loads.Sum(m => m.Load.SocketErrors), "N0", "0", v => v == 0),
            Row($"server CPU at {at} (% of a core)", targets, l => l.At(throughputConnections)?.Cpu.ProcessPercent, "0"),
            Row($"upstream CPU at {at} (% of a core)", targets, l => (l.At(throughputConnections)?.UpstreamCpu ?? l.At(throughputConnections)?.Cpu)?.ProcessPercent, "0"),
        };
        var metered = result.Metering.Problem is null;
        rows.Add(["gateway_requests metered once per answer", "-", metered ? "yes" : "no", "-", "yes", metered ? "PASS" : "MISS"]);

        Console.WriteLine("\n== Gateway summary (POST /v1/chat/completions) ==");
        TextTable.Print(["", "direct", "Flowgate", "Portkey", "target", ""], rows);
        Console.WriteLine($"Requests/s of each load at {at}: " + string.Join("; ", targets.Zip(["direct", "Flowgate", "Portkey"])
            .Where(t => t.First is not null)
            .Select(t => $"{t.Second} {string.Join(", ", t.First!.RatesAt(throughputConnections).Select(r => r.ToString("N0", CultureInfo.InvariantCulture)))}")));
        Console.WriteLine($"Metering: {result.Metering.Describe()}");
        if (result.PortkeyProblem is not null)
        {
            Console.WriteLine($"Portkey not measured: {result.PortkeyProblem}");
        }
        Console.WriteLine($"Earlier on this machine (issue 4): {EarlierFigures}.");
    }

    private static double? AddedP50(GatewayLoads gateway, GatewayLoads direct) =>
        gateway.At(Targets.LatencyConnections)?.Load.P50Ms - direct.At(Targets.LatencyConnections)?.Load.P50Ms;

    /// <summary>One metric for direct, Flowgate and Portkey; the verdict judges Flowgate's value.</summary>
    private static string[] Row(string metric, GatewayLoads?[] targets, Func<GatewayLoads, double?> value, string format, string target = "", Func<double, bool>? meets = null)
    {
        var values = targets.Select(t => t is null ? null : value(t)).ToArray();
        var verdict = values[1] is { } flowgate && meets is not null ? (meets(flowgate) ? "PASS" : "MISS") : "";
        return [metric, .. values.Select(v => v?.ToString(format, CultureInfo.InvariantCulture) ?? "-"), target, verdict];
    }
}
