namespace Saas.Bench.Load;

/// <summary>
/// What wrk loads: the server (its name, process and what one request is) and the request it sends (body and headers).
/// <paramref name="Upstream"/> is a process the server calls, whose CPU is measured during the load as well.
/// </summary>
public sealed record LoadTarget(string Part, string Server, int Pid, string Unit, Uri Url, string Body, IReadOnlyDictionary<string, string> Headers,
    (string Name, int Pid)? Upstream = null)
{
    public static IReadOnlyDictionary<string, string> Bearer(string? apiKey) =>
        apiKey is null ? new Dictionary<string, string>() : new Dictionary<string, string> { ["Authorization"] = $"Bearer {apiKey}" };
}
