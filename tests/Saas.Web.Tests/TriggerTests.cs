using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class TriggerTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static object ThreeSteps(object trigger, object? sink = null) => new
    {
        name = "orders",
        trigger,
        steps = new object[]
        {
            new { id = "total", type = "map", fields = new Dictionary<string, string> { ["total"] = "Number(record.qty) * Number(record.price)", ["country"] = "record.country.toUpperCase()" } },
            new { id = "big", type = "filter", where = "record.total >= 10" },
            new { id = "shape", type = "select", fields = new[] { "id", "country", "total" } },
        },
        sink = sink ?? new { type = "blob", format = "jsonl" },
    };

    [Fact]
    public async Task Http_run_with_wait_returns_the_finished_run_and_every_steps_figures()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "http" }));

        var run = await tenant.RunAndWaitAsync(pipeline, new object[]
        {
            new { id = 1, qty = 2, price = 7.5, country = "de" },
            new { id = 2, qty = 1, price = 3, country = "fr" },
            new { id = 3, qty = 4, price = 2.5, country = "nl" },
        });

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(3, run["recordsIn"]!.GetValue<long>());
        Assert.Equal(2, run["recordsOut"]!.GetValue<long>());
        Assert.Equal(1, run["chunks"]!["done"]!.GetValue<long>());
        var steps = run["steps"]!.AsArray();
        Assert.Equal(["total", "big", "shape"], steps.Select(s => s!["id"]!.GetValue<string>()));
        Assert.All(steps, s => Assert.Equal("succeeded", s!["status"]!.GetValue<string>()));
        Assert.Equal([3L, 3L, 2L], steps.Select(s => s!["recordsIn"]!.GetValue<long>()));
        Assert.Equal([3L, 2L, 2L], steps.Select(s => s!["recordsOut"]!.GetValue<long>()));

        var output = await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>());
        Assert.Equal(["{\"id\":1,\"country\":\"DE\",\"total\":15}", "{\"id\":3,\"country\":\"NL\",\"total\":10}"], output.Select(o => o.ToJsonString()));
    }

    [Fact]
    public async Task Single_object_body_is_one_record_and_each_steps_output_is_readable()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "http" }));

        var run = await tenant.RunAndWaitAsync(pipeline, new { id = 9, qty = 3, price = 5, country = "se" });
        var runId = run["id"]!.GetValue<string>();

        var mapped = await tenant.Http.GetStringAsync($"/api/v1/runs/{runId}/steps/total/output");
        var record = JsonNode.Parse(mapped.Trim())!;
        Assert.Equal(15, record["total"]!.GetValue<double>());
        Assert.Equal("SE", record["country"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.Http.GetAsync($"/api/v1/runs/{runId}/steps/nope/output")).StatusCode);
    }

    [Fact]
    public async Task Uploaded_csv_with_quoting_is_parsed_streamed_through_the_steps_and_written_as_csv()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "upload", format = "csv" }, new { type = "blob", format = "csv" }));
        const string csv = "id,qty,price,country,note\r\n1,2,7.5,de,\"plain\"\r\n2,1,3,fr,\"has, comma\"\r\n3,4,2.5,nl,\"has \"\"quotes\"\"\nand a newline\"\r\n";

        var accepted = await tenant.UploadAsync(pipeline, csv);
        var run = await tenant.WaitForRunAsync(accepted["id"]!.GetValue<string>());

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(3, run["recordsIn"]!.GetValue<long>());
        var output = await tenant.Http.GetStringAsync($"/api/v1/runs/{run["id"]}/output");
        Assert.Equal("id,country,total\n1,DE,15\n3,NL,10\n", output.Replace("\r\n", "\n"));
    }

    [Fact]
    public async Task Large_upload_is_split_into_chunks_that_all_reach_the_output_once()
    {
        var tenant = await app.CreateTenantAsync();
        var definition = new
        {
            name = "chunks",
            trigger = new { type = "upload", format = "csv" },
            steps = new object[] { new { id = "double", type = "map", fields = new Dictionary<string, string> { ["twice"] = "Number(record.n) * 2" } } },
            settings = new { chunkSize = 1000 },
        };
        var pipeline = await tenant.CreatePipelineAsync(definition);
        var csv = "n\n" + string.Join("\n", Enumerable.Range(1, 10_500)) + "\n";

        var accepted = await tenant.UploadAsync(pipeline, csv);
        var run = await tenant.WaitForRunAsync(accepted["id"]!.GetValue<string>());

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        Assert.Equal(11, run["chunks"]!["total"]!.GetValue<long>());
        var output = await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>());
        Assert.Equal(Enumerable.Range(1, 10_500).Select(n => n * 2.0), output.Select(o => o["twice"]!.GetValue<double>()));
        var usage = app.Services.GetRequiredService<Saas.Pipelines.Metering.UsageLedger>().ForRun(tenant.TenantId, run["id"]!.GetValue<string>());
        Assert.Equal(11, usage.Count);
    }

    [Fact]
    public async Task Malformed_csv_fails_the_run_with_the_line_and_column_of_the_first_bad_record()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "upload", format = "csv" }));

        var accepted = await tenant.UploadAsync(pipeline, "id,qty,price,country\n1,2,3,de\n2,1,3,fr,extra\n");
        var run = await tenant.WaitForRunAsync(accepted["id"]!.GetValue<string>());

        Assert.Equal("failed", run["status"]!.GetValue<string>());
        Assert.Contains("line 3", run["error"]!.GetValue<string>());
        Assert.Contains("column", run["error"]!.GetValue<string>());
    }

    [Fact]
    public async Task Queue_message_starts_a_run_of_every_active_pipeline_listening_on_that_queue()
    {
        var tenant = await app.CreateTenantAsync();
        var first = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "queue", queue = "orders" }));
        var second = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "queue", queue = "orders" }));
        var other = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "queue", queue = "refunds" }));

        var response = await tenant.Http.PostAsJsonAsync("/api/v1/queues/orders/messages", new object[]
        {
            new { id = 1, qty = 5, price = 5, country = "de" },
            new[] { new { id = 2, qty = 1, price = 50, country = "fr" }, new { id = 3, qty = 1, price = 1, country = "it" } },
        });
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var posted = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(2, posted["accepted"]!.GetValue<int>());
        Assert.Equal(2, posted["pipelines"]!.GetValue<int>());

        foreach (var pipeline in new[] { first, second })
        {
            var runs = await WaitForRunsAsync(tenant, pipeline, expected: 2);
            Assert.All(runs, r => Assert.Equal("succeeded", r["status"]!.GetValue<string>()));
            Assert.Equal(2L, runs.Sum(r => r["recordsOut"]!.GetValue<long>()));
        }
        var others = JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/runs?pipelineId={other}"))!["items"]!.AsArray();
        Assert.Empty(others);
    }

    [Fact]
    public async Task Schedule_fires_runs_with_its_fixed_input()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "ticker",
            trigger = new { type = "schedule", cron = "* * * * * *", timeZone = "Europe/Berlin", input = new { source = "cron" } },
            steps = new object[] { new { id = "stamp", type = "map", fields = new Dictionary<string, string> { ["tag"] = "record.source + '!'" } } },
        });

        var runs = await WaitForRunsAsync(tenant, pipeline, expected: 1);

        var run = await tenant.WaitForRunAsync(runs[0]["id"]!.GetValue<string>());
        Assert.Equal("schedule", run["trigger"]!.GetValue<string>());
        var output = await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>());
        Assert.Equal("cron!", output.Single()["tag"]!.GetValue<string>());
        await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/pause", null);
    }

    [Fact]
    public async Task Replay_runs_the_same_input_again_as_a_new_run()
    {
        var tenant = await app.CreateTenantAsync();
        var pipeline = await tenant.CreatePipelineAsync(ThreeSteps(new { type = "http" }));
        var original = await tenant.RunAndWaitAsync(pipeline, new[] { new { id = 1, qty = 2, price = 7.5, country = "de" } });

        var response = await tenant.Http.PostAsync($"/api/v1/runs/{original["id"]}/replay", null);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var replay = await tenant.WaitForRunAsync(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["id"]!.GetValue<string>());

        Assert.Equal(original["id"]!.GetValue<string>(), replay["replayOf"]!.GetValue<string>());
        Assert.Equal("succeeded", replay["status"]!.GetValue<string>());
        Assert.Equal(
            (await tenant.OutputRecordsAsync(original["id"]!.GetValue<string>())).Select(r => r.ToJsonString()),
            (await tenant.OutputRecordsAsync(replay["id"]!.GetValue<string>())).Select(r => r.ToJsonString()));
    }

    private static async Task<List<JsonNode>> WaitForRunsAsync(TenantClient tenant, string pipelineId, int expected)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (true)
        {
            var runs = JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/runs?pipelineId={pipelineId}"))!["items"]!.AsArray()
                .Select(r => r!).ToList();
            if (runs.Count >= expected && runs.All(r => r["status"]!.GetValue<string>() is "succeeded" or "failed"))
            {
                return runs;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"expected {expected} finished runs of {pipelineId}, found: {string.Join(", ", runs.Select(r => r["status"]))}");
            }
            await Task.Delay(50);
        }
    }
}
