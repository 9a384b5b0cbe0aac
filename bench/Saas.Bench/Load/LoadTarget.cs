namespace Saas.Bench.Load;

/// <summary>What wrk loads: the server (its name, process and what one request is) and the request it sends.</summary>
public sealed record LoadTarget(string Part, string Server, int Pid, string Unit, Uri Url, string Body, string? ApiKey);
