namespace Saas.Bench.Load;

/// <summary>What one wrk run measured (latencies of completed requests, in milliseconds).</summary>
public sealed record WrkResult(long Requests, double Seconds, long Non2xx, long SocketErrors, double P50Ms, double P90Ms, double P99Ms, double MaxMs, string Report)
{
    public double RequestsPerSecond => Requests / Seconds;

    /// <summary>Answers below 400 (wrk counts the others as non-2xx).</summary>
    public long Successes => Requests - Non2xx;

    /// <summary>Two runs as one: their counts added, the later run's latencies.</summary>
    public WrkResult Plus(WrkResult later) =>
        later with { Requests = Requests + later.Requests, Seconds = Seconds + later.Seconds, Non2xx = Non2xx + later.Non2xx, SocketErrors = SocketErrors + later.SocketErrors };

    public string Describe(string unit) =>
        $"{RequestsPerSecond:N0} {unit}/s ({Requests:N0} in {Seconds:0.0} s), p50 {P50Ms:0.00} ms, p90 {P90Ms:0.00} ms, p99 {P99Ms:0.00} ms, " +
        $"max {MaxMs:0.0} ms, non-2xx {Non2xx}, socket errors/timeouts {SocketErrors}";
}

/// <summary>The line printed by post.lua's <c>done</c>.</summary>
internal sealed record WrkDoneLine(long Requests, long DurationUs, long ConnectErrors, long ReadErrors, long WriteErrors, long Timeouts, long Non2xx, long P50Us, long P90Us, long P99Us, long MaxUs)
{
    public WrkResult ToResult(string report) => new(
        Requests, DurationUs / 1e6, Non2xx, ConnectErrors + ReadErrors + WriteErrors + Timeouts,
        P50Us / 1e3, P90Us / 1e3, P99Us / 1e3, MaxUs / 1e3, report);
}
