using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Dapper;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Saas.Pipelines.Storage;

namespace Saas.Web.Tests;

/// <summary>One tenant flooding the product cannot starve another (decision 024): rate, concurrency, fairness, depth.</summary>
public sealed class TenantLimitsTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task Requests_beyond_a_tenants_rate_answer_429_with_retry_after_and_other_tenants_are_unaffected()
    {
        var a = await app.CreateTenantAsync("noisy");
        var b = await app.CreateTenantAsync("quiet");
        await SetLimitsAsync(a.TenantId, new { requestsPerSecond = 1, requestBurst = 3 });

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 8; i++)
        {
            answers.Add(await a.Http.GetAsync("/api/v1/pipelines"));
        }
        Assert.Equal(HttpStatusCode.OK, answers[0].StatusCode);
        var refused = answers.FirstOrDefault(r => r.StatusCode == HttpStatusCode.TooManyRequests);
        Assert.NotNull(refused);
        Assert.True(refused.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "a 429 must say when to retry");
        var problem = JsonNode.Parse(await refused.Content.ReadAsStringAsync())!;
        Assert.Equal("requestsPerSecond", problem["limit"]!.GetValue<string>());
        Assert.Equal(1, problem["requestsPerSecond"]!.GetValue<int>());
        Assert.Contains("1 requests per second", problem["detail"]!.GetValue<string>());

        for (var i = 0; i < 8; i++)
        {
            var answer = await b.Http.GetAsync("/api/v1/pipelines");
            Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        }
        var limits = JsonNode.Parse(await b.Http.GetStringAsync("/api/v1/limits"))!;
        Assert.Equal(200, limits["requestsPerSecond"]!.GetValue<int>());
    }

    [Fact]
    public async Task A_tenant_never_has_more_steps_in_flight_than_its_cap_and_pending_work_beyond_its_limit_is_refused_whole()
    {
        await using var server = await HoldingServer.StartAsync();
        var a = await app.CreateTenantAsync("capped");
        var b = await app.CreateTenantAsync("neighbour");
        await SetLimitsAsync(a.TenantId, new { maxConcurrentSteps = 2, maxPendingWork = 6 });
        var holding = await a.CreatePipelineAsync(new
        {
            name = "slow", trigger = new { type = "http" },
            steps = new object[] { new { id = "call", type = "http", url = server.Url, fields = new { ok = "response.ok" }, timeoutSeconds = 120, retries = 0 } },
        });
        var runs = new List<string>();
        for (var i = 0; i < 6; i++)
        {
            var started = await a.Http.PostAsJsonAsync($"/api/v1/pipelines/{holding}/runs", new { i });
            Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
            runs.Add(JsonNode.Parse(await started.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());
        }
        await server.WaitForInFlightAsync(2);

        // Six runs pending: one more run, or a queue post of two messages, passes the limit of six.
        var refusedRun = await a.Http.PostAsJsonAsync($"/api/v1/pipelines/{holding}/runs", new { i = 7 });
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedRun.StatusCode);
        Assert.NotNull(refusedRun.Headers.RetryAfter);
        var problem = JsonNode.Parse(await refusedRun.Content.ReadAsStringAsync())!;
        Assert.Equal("maxPendingWork", problem["limit"]!.GetValue<string>());
        Assert.Equal(6, problem["maxPendingWork"]!.GetValue<long>());
        Assert.Contains("at most 6", problem["detail"]!.GetValue<string>());
        var refusedPost = await a.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", new[] { new { x = 1 }, new { x = 2 } });
        Assert.Equal(HttpStatusCode.TooManyRequests, refusedPost.StatusCode);
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM queue_messages WHERE tenant_id = @t", a.TenantId));
        Assert.Equal(6, Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @t", a.TenantId));

        // The other tenant's work runs while the capped tenant waits.
        var other = await b.CreatePipelineAsync(new { name = "fast", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } });
        Assert.Equal("succeeded", (await b.RunAndWaitAsync(other, new { x = 1 }))["status"]!.GetValue<string>());
        Assert.Equal(2, server.InFlight);

        server.Release();
        foreach (var run in runs)
        {
            Assert.Equal("succeeded", (await a.WaitForRunAsync(run))["status"]!.GetValue<string>());
        }
        Assert.Equal(2, server.MaxInFlight);
    }

    [Fact]
    public async Task New_work_a_little_too_fast_is_held_for_its_turn_beyond_a_second_answers_429_a_post_larger_than_its_burst_413_and_neither_stores_anything()
    {
        var a = await app.CreateTenantAsync("poster");
        var b = await app.CreateTenantAsync("bystander");
        await SetLimitsAsync(a.TenantId, new { newWorkPerSecond = 1, newWorkBurst = 3 });
        await a.CreatePipelineAsync(new { name = "orders", trigger = new { type = "queue", queue = "orders" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } });

        // An idle tenant may post the burst less a second of its rate (here 2) with no hold.
        var first = await a.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", new[] { new { x = 1 }, new { x = 2 } });
        Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        // One more needs at most a second of refill: it is held for its turn, then accepted.
        var held = await a.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", new[] { new { x = 3 } });
        Assert.Equal(HttpStatusCode.Accepted, held.StatusCode);
        // Three more need about three seconds: refused, however slow the machine is between the posts.
        var tooFast = await a.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", new[] { new { x = 4 }, new { x = 5 }, new { x = 6 } });
        Assert.Equal(HttpStatusCode.TooManyRequests, tooFast.StatusCode);
        Assert.True(tooFast.Headers.RetryAfter?.Delta >= TimeSpan.FromSeconds(1), "a 429 must say when to retry");
        var problem = JsonNode.Parse(await tooFast.Content.ReadAsStringAsync())!;
        Assert.Equal("newWorkPerSecond", problem["limit"]!.GetValue<string>());
        Assert.Equal(1, problem["newWorkPerSecond"]!.GetValue<long>());
        Assert.Contains("1 pieces of new work (queue messages or runs) per second", problem["detail"]!.GetValue<string>());

        var tooLarge = await a.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", Enumerable.Range(0, 4).Select(x => new { x }));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, tooLarge.StatusCode);
        Assert.Null(tooLarge.Headers.RetryAfter);
        var split = JsonNode.Parse(await tooLarge.Content.ReadAsStringAsync())!;
        Assert.Equal("newWorkBurst", split["limit"]!.GetValue<string>());
        Assert.Contains("Split it into posts of at most 3 messages", split["detail"]!.GetValue<string>());
        Assert.Equal(3, Scalar("SELECT COUNT(*) FROM queue_messages WHERE tenant_id = @t", a.TenantId) + Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @t", a.TenantId));

        var other = await b.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", Enumerable.Range(0, 10).Select(x => new { x }));
        Assert.Equal(HttpStatusCode.Accepted, other.StatusCode);

        await Task.Delay(tooFast.Headers.RetryAfter!.Delta!.Value + TimeSpan.FromSeconds(1));
        var retried = await a.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", new[] { new { x = 4 }, new { x = 5 }, new { x = 6 } });
        Assert.Equal(HttpStatusCode.Accepted, retried.StatusCode);
    }

    [Fact]
    public async Task A_backlog_queued_first_does_not_delay_another_tenants_new_work_behind_it()
    {
        var a = await app.CreateTenantAsync("flood");
        var b = await app.CreateTenantAsync("steady");
        var definition = new { name = "q", trigger = new { type = "queue", queue = "events" }, steps = new object[] { new { id = "m", type = "map", fields = new { y = "record.x * 2" } } } };
        await a.CreatePipelineAsync(definition);
        await b.CreatePipelineAsync(definition);

        var flood = await a.Http.PostAsJsonAsync("/api/v1/queues/events/messages", Enumerable.Range(0, 2_000).Select(x => new { x }).ToArray());
        Assert.Equal(HttpStatusCode.Accepted, flood.StatusCode);
        var posted = await b.Http.PostAsJsonAsync("/api/v1/queues/events/messages", new { x = 1 });
        Assert.Equal(HttpStatusCode.Accepted, posted.StatusCode);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @t AND status = 'succeeded'", b.TenantId) == 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "tenant B's run did not finish");
            await Task.Delay(5);
        }
        var aDone = Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @t AND status = 'succeeded'", a.TenantId);
        Assert.True(aDone < 1_000, $"tenant B's run finished only after {aDone} of tenant A's 2,000 runs");

        while (Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @t AND status = 'succeeded'", a.TenantId) < 2_000)
        {
            Assert.True(DateTime.UtcNow < deadline + TimeSpan.FromSeconds(120), "tenant A's backlog did not drain");
            await Task.Delay(50);
        }
        Assert.Equal(0, Scalar("SELECT COUNT(*) FROM work_items WHERE tenant_id = @t", a.TenantId));
    }

    [Fact]
    public async Task Platform_limits_are_checked_and_foreign_tenants_answer_404()
    {
        var a = await app.CreateTenantAsync("checked");
        var platform = await BillingTests.PlatformClientAsync(app);
        var invalid = await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{a.TenantId}/limits", new { requestsPerSecond = 0, maxConcurent = 3 });
        Assert.Equal(HttpStatusCode.BadRequest, invalid.StatusCode);
        var detail = JsonNode.Parse(await invalid.Content.ReadAsStringAsync())!["detail"]!.GetValue<string>();
        Assert.Contains("requestsPerSecond: must be a whole number from 1", detail);
        Assert.Contains("maxConcurent: unknown limit", detail);
        Assert.Equal(HttpStatusCode.NotFound, (await platform.GetAsync("/api/platform/v1/tenants/ten_missing/limits")).StatusCode);

        var set = JsonNode.Parse(await (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{a.TenantId}/limits", new { maxConcurrentSteps = 3, newWorkBurst = 20_000 })).Content.ReadAsStringAsync())!;
        Assert.Equal(3, set["maxConcurrentSteps"]!.GetValue<int>());
        Assert.Equal(20_000, set["newWorkBurst"]!.GetValue<int>());
        Assert.Equal(5_000, set["newWorkPerSecond"]!.GetValue<int>());
        Assert.Equal(200, set["requestsPerSecond"]!.GetValue<int>());
        Assert.Null(set["overrides"]!["requestsPerSecond"]);
        Assert.Equal(3, JsonNode.Parse(await a.Http.GetStringAsync("/api/v1/limits"))!["maxConcurrentSteps"]!.GetValue<int>());
    }

    private async Task SetLimitsAsync(string tenantId, object limits)
    {
        var platform = await BillingTests.PlatformClientAsync(app);
        var answer = await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenantId}/limits", limits);
        Assert.True(answer.IsSuccessStatusCode, await answer.Content.ReadAsStringAsync());
    }

    private long Scalar(string sql, string tenantId)
    {
        using var connection = app.Services.GetRequiredService<Database>().OpenConnection();
        return connection.ExecuteScalar<long>(sql, new { t = tenantId });
    }

    /// <summary>An HTTP endpoint on 127.0.0.1 that holds every request until released, counting how many it holds at once.</summary>
    private sealed class HoldingServer : IAsyncDisposable
    {
        private readonly WebApplication _app;
        private readonly TaskCompletionSource _released = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _inFlight;
        private int _maxInFlight;

        private HoldingServer(WebApplication app) => _app = app;

        public string Url => $"{_app.Urls.First()}/hold";

        public int InFlight => Volatile.Read(ref _inFlight);

        public int MaxInFlight => Volatile.Read(ref _maxInFlight);

        public static async Task<HoldingServer> StartAsync()
        {
            var app = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]).Build();
            var server = new HoldingServer(app);
            app.MapGet("/hold", async (HttpContext context) =>
            {
                var now = Interlocked.Increment(ref server._inFlight);
                InterlockedMax(ref server._maxInFlight, now);
                await server._released.Task;
                Interlocked.Decrement(ref server._inFlight);
                return Results.Json(new { ok = true });
            });
            await app.StartAsync();
            return server;
        }

        public async Task WaitForInFlightAsync(int count)
        {
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (InFlight < count)
            {
                Assert.True(DateTime.UtcNow < deadline, $"only {InFlight} requests arrived");
                await Task.Delay(10);
            }
        }

        public void Release() => _released.TrySetResult();

        public async ValueTask DisposeAsync()
        {
            Release();
            await _app.StopAsync();
            await _app.DisposeAsync();
        }

        private static void InterlockedMax(ref int target, int value)
        {
            int seen;
            while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen)
            {
            }
        }
    }
}
