using System.Text.Json;
using Saas.Bench.Flowgate;
using Saas.Bench.Load;
using Saas.Bench.Report;

namespace Saas.Bench.Gateway;

/// <summary>
/// Part 4: <c>POST /v1/chat/completions</c> against a local upstream that answers at once, loaded by wrk directly, through
/// Flowgate's gateway and through Portkey, at <see cref="BenchOptions.Connections"/> and at 1 connection: what a gateway
/// costs is its throughput and the latency it adds to the direct call. Then Flowgate's ledger is checked against the answers.
/// </summary>
public static class GatewayBenchmark
{
    public const string ProviderKey = "sk-bench";
    private const string Provider = "up";

    /// <summary>
    /// Loads at <see cref="BenchOptions.Connections"/>, of which the median rate is reported: on this shared 2-core machine
    /// identical loads of the same warmed-up server differ by ±15 %, so one load says more about the machine than the server.
    /// </summary>
    public const int ThroughputLoads = 3;

    private static IEnumerable<int> Connections(BenchOptions options) => new[] { options.Connections, Targets.LatencyConnections }.Distinct();

    /// <summary>Loopback opened for the upstream; request limits at the most the host accepts (1 M/min a key = 16,666/s, far above the load).</summary>
    private static readonly string[] FlowgateSettings =
    [
        "--Flowgate:Network:AllowedPrivateNetworks:0=127.0.0.0/8",
        "--Flowgate:Gateway:RequestsPerMinutePerKey=1000000",
        "--Flowgate:Gateway:RequestsPerMinutePerTenant=10000000",
    ];

    public static async Task<GatewayResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine("\n== 4. AI gateway (POST /v1/chat/completions to a local OpenAI-compatible upstream: direct, Flowgate, Portkey) ==");
        using var upstream = await Upstream.StartAsync(context.Children);

        var directHeaders = LoadTarget.Bearer(ProviderKey);
        await CheckAsync("the upstream", upstream.ChatUrl, directHeaders, upstream, a => a.Body == UpstreamServer.Answer ? null : $"answered {a.Body}", cancellationToken);
        var direct = await LoadAsync(context, new LoadTarget("gateway direct", "upstream", upstream.Pid, "req", upstream.ChatUrl, ChatRequest.Body, directHeaders), cancellationToken);

        var (flowgate, metering) = await FlowgateAsync(context, upstream, cancellationToken);

        GatewayLoads? portkey = null;
        string? portkeyProblem = null;
        try
        {
            portkey = await PortkeyAsync(context, upstream, cancellationToken);
        }
        catch (Exception error) when (error is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
        {
            portkeyProblem = error.Message.Split('\n')[0];
            Console.WriteLine($"Portkey could not be measured: {error.Message}");
        }
        return new GatewayResult(direct, flowgate, metering, portkey, portkeyProblem);
    }

    private static async Task<(GatewayLoads Loads, GatewayMetering Metering)> FlowgateAsync(BenchContext context, Upstream upstream, CancellationToken cancellationToken)
    {
        var server = await FlowgateServer.StartAsync(context.Children, context.Paths, "gateway", [.. context.Options.HostSettings, .. FlowgateSettings]);
        try
        {
            var api = server.Api;
            await api.PutAsync($"/api/v1/ai/providers/{Provider}",
                JsonSerializer.Serialize(new { type = "openai-compatible", baseUrl = upstream.BaseUrl, apiKey = ProviderKey }), cancellationToken);
            await api.PutAsync("/api/v1/ai/models/bench", $$"""{"targets":[{"provider":"{{Provider}}","model":"up-model"}]}""", cancellationToken);

            var answeredBefore = await upstream.AnsweredAsync();
            var chatUrl = new Uri(api.BaseAddress, UpstreamServer.ChatPath);
            var headers = LoadTarget.Bearer(api.ApiKey);
            await CheckAsync("Flowgate", chatUrl, headers, upstream, answer =>
                answer.Body != UpstreamServer.Answer ? $"answered {answer.Body}, not the upstream's body"
                : answer.Header("x-flowgate-provider") != Provider ? $"answered x-flowgate-provider: {answer.Header("x-flowgate-provider") ?? "(none)"}, expected {Provider}"
                : null, cancellationToken);
            var loads = await LoadAsync(context, new LoadTarget("gateway Flowgate", "Flowgate", server.Pid, "req", chatUrl, ChatRequest.Body, headers, ("upstream", upstream.Pid)), cancellationToken);

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken); // requests wrk cut off at its end still finish
            var usage = await api.UsageByMeterAsync(cancellationToken);
            var metering = new GatewayMetering(usage.GetValueOrDefault("gateway_requests"), loads.Successes + 1, await upstream.AnsweredAsync() - answeredBefore,
                usage.GetValueOrDefault("llm_input_tokens"), usage.GetValueOrDefault("llm_output_tokens"));
            Console.WriteLine($"\nMetering: {metering.Describe()}: {metering.Problem ?? "every answer metered once"}");
            return (loads, metering);
        }
        finally
        {
            server.Stop();
        }
    }

    private static async Task<GatewayLoads> PortkeyAsync(BenchContext context, Upstream upstream, CancellationToken cancellationToken)
    {
        var server = await PortkeyServer.StartAsync(context.Children, context.Paths);
        try
        {
            var headers = PortkeyServer.Headers(upstream);
            await CheckAsync("Portkey", server.ChatUrl, headers, upstream, answer =>
                TotalTokens(answer.Body) == UpstreamServer.PromptTokens + UpstreamServer.CompletionTokens ? null : $"answered {answer.Body}, without the upstream's usage",
                cancellationToken);
            return await LoadAsync(context, new LoadTarget("gateway Portkey", "Portkey", server.Pid, "req", server.ChatUrl, ChatRequest.Body, headers, ("upstream", upstream.Pid)), cancellationToken);
        }
        finally
        {
            server.Stop();
        }
    }

    /// <summary>One request must answer 200, pass <paramref name="problem"/>, and reach the upstream exactly once.</summary>
    private static async Task CheckAsync(string who, Uri url, IReadOnlyDictionary<string, string> headers, Upstream upstream, Func<ChatAnswer, string?> problem, CancellationToken cancellationToken)
    {
        var before = await upstream.AnsweredAsync();
        var answer = await ChatRequest.SendAsync(url, headers, cancellationToken);
        var reached = await upstream.AnsweredAsync() - before;
        var wrong = answer.Status != 200 ? $"answered {answer.Status}: {answer.Body}"
            : reached != 1 ? $"answered 200 but the upstream received {reached} requests instead of 1"
            : problem(answer);
        if (wrong is not null)
        {
            throw new InvalidOperationException($"the correctness check failed: {who} {wrong}");
        }
        Console.WriteLine($"Correctness check: {who} answered 200 with the upstream's chat completion ({answer.Body.Length} bytes); the upstream received exactly 1 request.");
    }

    /// <summary>Portkey may re-serialize the answer, so its check compares the usage figures, not the bytes.</summary>
    private static long? TotalTokens(string body)
    {
        try
        {
            using var json = JsonDocument.Parse(body);
            return json.RootElement.TryGetProperty("usage", out var usage) && usage.TryGetProperty("total_tokens", out var total) && total.TryGetInt64(out var tokens)
                ? tokens : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    private static async Task<GatewayLoads> LoadAsync(BenchContext context, LoadTarget target, CancellationToken cancellationToken)
    {
        Console.WriteLine($"Warming up {target.Server} for {context.Options.Warmup.TotalSeconds:0} s ({LoadMeasurement.Count(context.Options.Connections, "connection")})...");
        var warmUp = await context.Wrk.WarmUpAsync(target, cancellationToken);
        int[] connections = [.. Enumerable.Repeat(context.Options.Connections, ThroughputLoads), .. Connections(context.Options).Where(c => c != context.Options.Connections)];
        var loads = await LoadMeasurement.RunEachAsync(context, target, connections, cancellationToken);
        return new GatewayLoads(loads, warmUp);
    }
}
