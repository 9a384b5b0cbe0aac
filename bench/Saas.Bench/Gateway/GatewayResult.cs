using Saas.Bench.Load;

namespace Saas.Bench.Gateway;

/// <summary>
/// One target's loads (several at the throughput's number of connections, one at each other) and its warm-up (whose
/// answers count for the metering check).
/// </summary>
public sealed record GatewayLoads(IReadOnlyList<LoadMeasurement> Loads, WrkResult WarmUp)
{
    /// <summary>The load at that number of connections; of several, the one with the median rate.</summary>
    public LoadMeasurement? At(int connections)
    {
        var loads = Loads.Where(l => l.Connections == connections).OrderBy(l => l.Load.RequestsPerSecond).ToList();
        return loads.Count == 0 ? null : loads[(loads.Count - 1) / 2];
    }

    /// <summary>The rates of every load at that number of connections, in the order they ran.</summary>
    public IEnumerable<double> RatesAt(int connections) => Loads.Where(l => l.Connections == connections).Select(l => l.Load.RequestsPerSecond);

    public long Successes => WarmUp.Successes + Loads.Sum(l => l.Load.Successes);
}

/// <summary>
/// Flowgate's ledger after its loads against what was answered: every 2xx that wrk or a check saw must be metered, and
/// nothing more than the upstream answered (wrk stops counting with requests in flight, which may still be metered).
/// </summary>
public sealed record GatewayMetering(long Metered, long SeenAnswered, long UpstreamAnswered, long InputTokens, long OutputTokens)
{
    public string? Problem =>
        Metered < SeenAnswered ? $"gateway_requests is {Metered:N0} but {SeenAnswered:N0} requests were answered 2xx: {SeenAnswered - Metered:N0} not metered"
        : Metered > UpstreamAnswered ? $"gateway_requests is {Metered:N0} but the upstream answered only {UpstreamAnswered:N0}: metered more than once"
        : InputTokens != Metered * UpstreamServer.PromptTokens || OutputTokens != Metered * UpstreamServer.CompletionTokens
            ? $"tokens metered {InputTokens:N0} in / {OutputTokens:N0} out, expected {UpstreamServer.PromptTokens} / {UpstreamServer.CompletionTokens} per metered request ({Metered:N0})"
        : null;

    public string Describe() =>
        $"gateway_requests {Metered:N0}, 2xx answers seen by wrk and the check {SeenAnswered:N0}" +
        (Metered > SeenAnswered ? $" (+{Metered - SeenAnswered:N0} answered after wrk stopped counting)" : "") +
        $", upstream answered {UpstreamAnswered:N0}; tokens {InputTokens:N0} in / {OutputTokens:N0} out";
}

/// <summary>Part 4: the upstream directly, through Flowgate and through Portkey (null, with the reason, if it could not run).</summary>
public sealed record GatewayResult(GatewayLoads Direct, GatewayLoads Flowgate, GatewayMetering Metering, GatewayLoads? Portkey, string? PortkeyProblem);
