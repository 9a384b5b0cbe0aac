using System.Diagnostics;
using System.Text.Json;
using Microsoft.AspNetCore.Http;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Enrich;

public sealed class HttpStepTests
{
    private const string Token = "tok-7f3a9c-never-shown";

    private static string Definition(Uri server, string extra = "", string path = "/customers/{{record.id}}") => $$$"""
        {"name":"p","trigger":{"type":"http"},"steps":[
          {"id":"enrich","type":"http","url":"{{{server}}}{{{path.TrimStart('/')}}}",
           "headers":{"Authorization":"Bearer {{secrets.crm}}"},
           "fields":{"tier":"response.tier","echo":"record.id + ':' + response.id"}{{{extra}}}}]}
        """;

    private static readonly Dictionary<string, string> Secrets = new() { ["crm"] = Token };

    private static Task Customer(HttpContext context) =>
        context.Response.WriteAsJsonAsync(new { id = Uri.UnescapeDataString(context.Request.Path.Value!.Split('/').Last()), tier = "gold" });

    [Fact]
    public async Task Answers_are_mapped_into_fields_in_input_order_with_bounded_concurrency_and_url_encoded_values()
    {
        await using var server = await LocalServer.StartAsync(async context =>
        {
            var id = context.Request.Path.Value!.Split('/').Last();
            await Task.Delay(int.TryParse(id, out var n) ? (20 - n) * 5 : 0);
            await Customer(context);
        });
        await using var engine = new EnrichEngine();
        var records = "[" + string.Join(",", Enumerable.Range(1, 20).Select(n => $$"""{"id":"{{n}}"}""")) + """,{"id":"a b/c?d"}]""";

        var result = await engine.RunAsync(Definition(server.Url, ",\"concurrency\":4"), records, Secrets);

        Assert.Equal(RunStatus.Succeeded, result.Run.Status);
        Assert.Equal([.. Enumerable.Range(1, 20).Select(n => $"{n}"), "a b/c?d"], result.Output.Select(o => o["id"]!.GetValue<string>()));
        Assert.All(result.Output, o => Assert.Equal("gold", o["tier"]!.GetValue<string>()));
        Assert.Equal("a b/c?d:a b/c?d", result.Output[^1]["echo"]!.GetValue<string>());
        Assert.Contains(server.Requests, r => r.PathAndQuery == "/customers/a%20b%2Fc%3Fd");
        Assert.All(server.Requests, r => Assert.Equal($"Bearer {Token}", r.Headers["Authorization"]));
        Assert.InRange(server.MaxInFlight, 2, 4);
        Assert.DoesNotContain(Token, result.Everything);
    }

    [Fact]
    public async Task A_failing_server_is_retried_until_it_answers()
    {
        var calls = 0;
        await using var server = await LocalServer.StartAsync(context =>
        {
            if (Interlocked.Increment(ref calls) <= 2)
            {
                context.Response.StatusCode = 500;
                return Task.CompletedTask;
            }
            return Customer(context);
        });
        await using var engine = new EnrichEngine();

        var result = await engine.RunAsync(Definition(server.Url), """{"id":"1"}""", Secrets);

        Assert.Equal(RunStatus.Succeeded, result.Run.Status);
        Assert.Equal(3, calls);
        Assert.Equal("gold", result.Output.Single()["tier"]!.GetValue<string>());
    }

    [Fact]
    public async Task A_429_is_retried_after_the_time_its_Retry_After_asks_for()
    {
        var stopwatch = Stopwatch.StartNew();
        var calls = new List<TimeSpan>();
        await using var server = await LocalServer.StartAsync(context =>
        {
            lock (calls)
            {
                calls.Add(stopwatch.Elapsed);
                if (calls.Count == 1)
                {
                    context.Response.StatusCode = 429;
                    context.Response.Headers.RetryAfter = "1";
                    return Task.CompletedTask;
                }
            }
            return Customer(context);
        });
        await using var engine = new EnrichEngine();

        var result = await engine.RunAsync(Definition(server.Url), """{"id":"1"}""", Secrets);

        Assert.Equal(RunStatus.Succeeded, result.Run.Status);
        Assert.Equal(2, calls.Count);
        Assert.True(calls[1] - calls[0] >= TimeSpan.FromMilliseconds(950), $"retried after {(calls[1] - calls[0]).TotalMilliseconds} ms");
    }

    [Fact]
    public async Task A_server_that_keeps_failing_fails_the_run_naming_the_record_and_the_status_but_not_the_secret()
    {
        await using var server = await LocalServer.StartAsync(context =>
        {
            context.Response.StatusCode = 503;
            return Task.CompletedTask;
        });
        await using var engine = new EnrichEngine();

        var result = await engine.RunAsync(Definition(server.Url, ",\"retries\":1,\"concurrency\":1"), """[{"id":"1"},{"id":"2"}]""", Secrets);

        Assert.Equal(RunStatus.Failed, result.Run.Status);
        Assert.Contains("record 1: GET http://127.0.0.1", result.Run.Error);
        Assert.Contains("answered 503 Service Unavailable after 2 attempts", result.Run.Error);
        Assert.Equal(2, server.Requests.Count);
        Assert.DoesNotContain(Token, result.Everything);
    }

    [Fact]
    public async Task On_error_skip_drops_the_record_and_null_keeps_it_with_the_error()
    {
        await using var server = await LocalServer.StartAsync(context =>
        {
            if (context.Request.Path.Value!.EndsWith("/bad", StringComparison.Ordinal))
            {
                context.Response.StatusCode = 404;
                return Task.CompletedTask;
            }
            return Customer(context);
        });
        await using var engine = new EnrichEngine();
        const string records = """[{"id":"1"},{"id":"bad"},{"id":"3"}]""";

        var skipped = await engine.RunAsync(Definition(server.Url, ",\"onError\":\"skip\""), records, Secrets, "a");
        var nulled = await engine.RunAsync(Definition(server.Url, ",\"onError\":\"null\",\"errorField\":\"problem\""), records, Secrets, "b");

        Assert.Equal(["1", "3"], skipped.Output.Select(o => o["id"]!.GetValue<string>()));
        Assert.Equal(["1", "bad", "3"], nulled.Output.Select(o => o["id"]!.GetValue<string>()));
        var bad = nulled.Output[1];
        Assert.Null(bad["tier"]);
        Assert.True(bad.ContainsKey("tier"));
        Assert.Contains("answered 404", bad["problem"]!.GetValue<string>());
        Assert.False(nulled.Output[0].ContainsKey("problem"));
    }

    [Fact]
    public async Task A_slow_server_times_out_with_the_limit_named()
    {
        await using var server = await LocalServer.StartAsync(async context =>
        {
            await Task.Delay(TimeSpan.FromSeconds(5), context.RequestAborted);
            await Customer(context);
        });
        await using var engine = new EnrichEngine();

        var result = await engine.RunAsync(Definition(server.Url, ",\"timeoutSeconds\":1,\"retries\":0"), """{"id":"1"}""", Secrets);

        Assert.Equal(RunStatus.Failed, result.Run.Status);
        Assert.Contains("timed out after 1 s", result.Run.Error);
    }

    [Fact]
    public async Task An_oversized_answer_is_refused_naming_the_limit()
    {
        await using var server = await LocalServer.StartAsync(async context =>
        {
            context.Response.ContentType = "application/json";
            await context.Response.WriteAsync("{\"tier\":\"" + new string('x', 20_000) + "\"}");
        });
        await using var engine = new EnrichEngine(network => network.MaxResponseBytes = 10_000);

        var result = await engine.RunAsync(Definition(server.Url, ",\"retries\":0"), """{"id":"1"}""", Secrets);

        Assert.Equal(RunStatus.Failed, result.Run.Status);
        Assert.Contains("larger than 10000 bytes (Flowgate:Network:MaxResponseBytes)", result.Run.Error);
    }

    [Fact]
    public async Task Cached_answers_are_reused_within_a_tenant_and_never_across_tenants()
    {
        await using var server = await LocalServer.StartAsync(Customer);
        await using var engine = new EnrichEngine();
        var definition = Definition(server.Url, ",\"cacheSeconds\":300,\"concurrency\":1");

        var first = await engine.RunAsync(definition, """[{"id":"1"},{"id":"1"},{"id":"2"}]""", Secrets, "a");
        var other = await engine.RunAsync(definition, """[{"id":"1"}]""", Secrets, "b");

        Assert.Equal(3, first.Output.Count);
        Assert.Equal(1, server.Requests.Count(r => r.PathAndQuery == "/customers/2"));
        Assert.Equal(2, server.Requests.Count(r => r.PathAndQuery == "/customers/1"));
        Assert.Equal(RunStatus.Succeeded, other.Run.Status);
    }

    [Fact]
    public async Task Requests_to_one_host_are_spaced_at_the_configured_rate()
    {
        await using var server = await LocalServer.StartAsync(Customer);
        await using var engine = new EnrichEngine();
        var stopwatch = Stopwatch.StartNew();

        var result = await engine.RunAsync(Definition(server.Url, ",\"requestsPerSecond\":10"), "[" + string.Join(",", Enumerable.Range(1, 11).Select(n => $$"""{"id":"{{n}}"}""")) + "]", Secrets);

        Assert.Equal(RunStatus.Succeeded, result.Run.Status);
        Assert.True(stopwatch.Elapsed >= TimeSpan.FromMilliseconds(950), $"11 requests at 10/s took {stopwatch.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task A_json_body_template_keeps_value_types_and_the_method()
    {
        await using var server = await LocalServer.StartAsync(context => context.Response.WriteAsJsonAsync(new { tier = "silver", id = "x" }));
        await using var engine = new EnrichEngine();
        var definition = Definition(server.Url, ""","method":"POST","body":{"id":"{{record.id}}","qty":"{{record.qty}}","note":"n={{record.qty}}","key":"{{secrets.crm}}"}""", "/score");

        var result = await engine.RunAsync(definition, """{"id":"7","qty":3}""", Secrets);

        Assert.Equal(RunStatus.Succeeded, result.Run.Status);
        var request = server.Requests.Single();
        Assert.Equal("POST", request.Method);
        Assert.Equal("application/json", request.Headers["Content-Type"]);
        using var body = JsonDocument.Parse(request.Body);
        Assert.Equal(3, body.RootElement.GetProperty("qty").GetDouble());
        Assert.Equal("n=3", body.RootElement.GetProperty("note").GetString());
        Assert.Equal(Token, body.RootElement.GetProperty("key").GetString());
    }
}
