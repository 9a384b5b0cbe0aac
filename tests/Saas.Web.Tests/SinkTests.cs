using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class SinkTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private const string SigningKey = "whsec_3c1f9a-test-signing-key";

    private static object[] Records(int count) => Enumerable.Range(1, count).Select(n => (object)new { n }).ToArray();

    private static object Webhook(string url, int batchSize = 2) => new
    {
        name = "hook",
        trigger = new { type = "http" },
        steps = new object[] { new { id = "s", type = "map", fields = new { doubled = "record.n * 2" } } },
        sink = new { type = "webhook", url, secret = "hook_key", batchSize },
    };

    private async Task<TenantClient> TenantWithKeyAsync()
    {
        var tenant = await app.CreateTenantAsync();
        (await tenant.Http.PutAsJsonAsync("/api/v1/secrets/hook_key", new { value = SigningKey })).EnsureSuccessStatusCode();
        return tenant;
    }

    [Fact]
    public async Task Webhook_batches_are_signed_so_an_independent_implementation_and_the_readme_snippet_verify_them()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var tenant = await TenantWithKeyAsync();
        var pipeline = await tenant.CreatePipelineAsync(Webhook(receiver.Url));

        var run = await tenant.RunAndWaitAsync(pipeline, Records(5));

        Assert.Equal("succeeded", run["status"]!.GetValue<string>());
        var runId = run["id"]!.GetValue<string>();
        var deliveries = receiver.Deliveries.ToList();
        Assert.Equal([$"{runId}/0", $"{runId}/1", $"{runId}/2"], deliveries.Select(d => d.DeliveryId));
        Assert.Equal([2, 2, 1], deliveries.Select(d => JsonNode.Parse(d.Body)!.AsArray().Count));
        Assert.Equal(10, JsonNode.Parse(deliveries[2].Body)![0]!["doubled"]!.GetValue<double>());
        foreach (var delivery in deliveries)
        {
            var fields = delivery.Signature!.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
            Assert.InRange(long.Parse(fields["t"]), DateTimeOffset.UtcNow.ToUnixTimeSeconds() - 60, DateTimeOffset.UtcNow.ToUnixTimeSeconds() + 1);
            Assert.Equal(fields["v1"], await OpenSslHmacAsync(SigningKey, [.. Encoding.UTF8.GetBytes(fields["t"] + "."), .. delivery.Body]));
            Assert.Equal("True", await ReadmeSnippetAsync(SigningKey, delivery.Signature!, delivery.Body));
        }
        Assert.Equal("False", await ReadmeSnippetAsync(SigningKey, deliveries[0].Signature!, [.. deliveries[0].Body, (byte)' ']));
        Assert.Equal("False", await ReadmeSnippetAsync("another key", deliveries[0].Signature!, deliveries[0].Body));
    }

    [Fact]
    public async Task A_retried_webhook_sink_sends_only_the_batches_not_yet_acknowledged()
    {
        // Batch 1 fails on its first three requests (one sink attempt and its in-call retries), then succeeds.
        await using var receiver = await WebhookReceiver.StartAsync((_, id) => id!.EndsWith("/1", StringComparison.Ordinal) && Interlocked.Increment(ref _failures) <= 3 ? 500 : 200);
        var tenant = await TenantWithKeyAsync();
        var pipeline = await tenant.CreatePipelineAsync(Webhook(receiver.Url));

        var run = await tenant.RunAndWaitAsync(pipeline, Records(5));
        var finished = await tenant.WaitForRunAsync(run["id"]!.GetValue<string>());

        Assert.Equal("succeeded", finished["status"]!.GetValue<string>());
        var accepted = receiver.Deliveries.Where(d => d.Status == 200).Select(d => d.DeliveryId!.Split('/')[1]).ToList();
        Assert.Equal(["0", "1", "2"], accepted);
        Assert.Single(receiver.Deliveries, d => d.DeliveryId!.EndsWith("/0", StringComparison.Ordinal));
    }

    private int _failures;

    [Fact]
    public async Task A_webhook_that_keeps_failing_is_dead_lettered_after_the_attempt_limit()
    {
        await using var receiver = await WebhookReceiver.StartAsync((_, _) => 503);
        var tenant = await TenantWithKeyAsync();
        var definition = new
        {
            name = "hook",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "s", type = "select", fields = new[] { "n" } } },
            sink = new { type = "webhook", url = receiver.Url, secret = "hook_key" },
            settings = new { maxAttempts = 2 },
        };
        var pipeline = await tenant.CreatePipelineAsync(definition);

        var run = await tenant.RunAndWaitAsync(pipeline, Records(1));
        var finished = await tenant.WaitForRunAsync(run["id"]!.GetValue<string>());

        Assert.Equal("failed", finished["status"]!.GetValue<string>());
        Assert.Contains("sink: failed after 2 attempts: webhook http://127.0.0.1", finished["error"]!.GetValue<string>());
        Assert.Contains("answered 503", finished["error"]!.GetValue<string>());
        Assert.Equal(6, receiver.Deliveries.Count);
        Assert.Contains("deadLetters", finished.ToJsonString());
        Assert.DoesNotContain(SigningKey, finished.ToJsonString());
    }

    [Theory]
    [InlineData("http://169.254.169.254/latest/meta-data", "sink.url: refused")]
    [InlineData("http://10.0.0.7/hook", "sink.url: refused")]
    [InlineData("ftp://example.com/hook", "sink.url: 'ftp://example.com/hook' is not an absolute http(s) URL")]
    public async Task Webhooks_to_forbidden_addresses_are_refused_at_publish(string url, string expected)
    {
        var tenant = await TenantWithKeyAsync();

        var response = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", Webhook(url));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_queue_sink_feeds_the_pipelines_listening_on_that_queue()
    {
        var tenant = await app.CreateTenantAsync();
        var downstream = await tenant.CreatePipelineAsync(new
        {
            name = "downstream",
            trigger = new { type = "queue", queue = "enriched" },
            steps = new object[] { new { id = "mark", type = "map", fields = new { seen = "true" } } },
        });
        var upstream = await tenant.CreatePipelineAsync(new
        {
            name = "upstream",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "s", type = "map", fields = new { doubled = "record.n * 2" } } },
            sink = new { type = "queue", queue = "enriched", batchSize = 10 },
        });

        await tenant.RunAndWaitAsync(upstream, Records(3));
        var runs = await WaitForRunsAsync(tenant, downstream, 1);

        var output = await tenant.OutputRecordsAsync(runs[0]);
        Assert.Equal([2.0, 4.0, 6.0], output.Select(o => o["doubled"]!.GetValue<double>()));
        Assert.All(output, o => Assert.True(o["seen"]!.GetValue<bool>()));
    }

    [Fact]
    public async Task A_queue_loop_between_published_pipelines_is_refused_naming_the_cycle()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.CreatePipelineAsync(new
        {
            name = "a-to-b",
            trigger = new { type = "queue", queue = "a" },
            steps = new object[] { new { id = "s", type = "select", fields = new[] { "n" } } },
            sink = new { type = "queue", queue = "b" },
        });

        var loop = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", new
        {
            name = "b-to-a",
            trigger = new { type = "queue", queue = "b" },
            steps = new object[] { new { id = "s", type = "select", fields = new[] { "n" } } },
            sink = new { type = "queue", queue = "a" },
        });
        var self = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", new
        {
            name = "self",
            trigger = new { type = "queue", queue = "c" },
            steps = new object[] { new { id = "s", type = "select", fields = new[] { "n" } } },
            sink = new { type = "queue", queue = "c" },
        });

        Assert.Equal(HttpStatusCode.BadRequest, loop.StatusCode);
        Assert.Contains("sink.queue: records would loop back to this pipeline: 'b-to-a' → queue 'a' → pipeline 'a-to-b' → queue 'b' → 'b-to-a' (this pipeline)", await loop.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, self.StatusCode);
    }

    [Fact]
    public async Task A_blob_sink_with_a_path_template_is_readable_at_its_path_and_as_the_run_output()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync("other");
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "export",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "s", type = "select", fields = new[] { "n" } } },
            sink = new { type = "blob", format = "csv", path = "exports/{{run.date}}/{{run.id}}.csv" },
        });

        var run = (await tenant.RunAndWaitAsync(pipeline, Records(2)))["id"]!.GetValue<string>();
        var path = $"exports/{DateTime.UtcNow:yyyy-MM-dd}/{run}.csv";

        Assert.Equal("n\n1\n2\n", await tenant.Http.GetStringAsync($"/api/v1/files/{path}"));
        Assert.Equal("n\n1\n2\n", await tenant.Http.GetStringAsync($"/api/v1/runs/{run}/output"));
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync($"/api/v1/files/{path}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await tenant.Http.GetAsync("/api/v1/files/exports/../secrets.csv")).StatusCode);
    }

    [Theory]
    [InlineData("/etc/passwd", "sink.path")]
    [InlineData("exports/../../x.csv", "sink.path")]
    [InlineData("exports/{{run.secret}}.csv", "unknown placeholder {{run.secret}}")]
    public async Task Unsafe_blob_paths_are_refused(string path, string expected)
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", new
        {
            name = "export",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "s", type = "select", fields = new[] { "n" } } },
            sink = new { type = "blob", path },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains(expected, await response.Content.ReadAsStringAsync());
    }

    private static async Task<List<string>> WaitForRunsAsync(TenantClient tenant, string pipelineId, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            var items = JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/runs?pipelineId={pipelineId}"))!["items"]!.AsArray();
            var done = items.Where(r => r!["status"]!.GetValue<string>() == "succeeded").Select(r => r!["id"]!.GetValue<string>()).ToList();
            if (done.Count >= count)
            {
                return done;
            }
            Assert.True(DateTime.UtcNow < deadline, $"only {done.Count} of {count} runs of {pipelineId} succeeded: {items.ToJsonString()}");
            await Task.Delay(50);
        }
    }

    private static async Task<string> OpenSslHmacAsync(string key, byte[] message)
    {
        var file = Path.GetTempFileName();
        await File.WriteAllBytesAsync(file, message);
        var output = await RunAsync(Tool("FLOWGATE_OPENSSL"), ["dgst", "-sha256", "-hmac", key, "-r", file]);
        File.Delete(file);
        return output.Split(' ')[0];
    }

    /// <summary>Runs the Python verification snippet exactly as the README shows it.</summary>
    private static async Task<string> ReadmeSnippetAsync(string key, string header, byte[] body)
    {
        var readme = await File.ReadAllTextAsync(Path.Combine(RepositoryRoot(), "README.md"));
        var start = readme.IndexOf("```python\n", readme.IndexOf("<!-- webhook-verification -->", StringComparison.Ordinal), StringComparison.Ordinal) + "```python\n".Length;
        var snippet = readme[start..readme.IndexOf("```", start, StringComparison.Ordinal)];
        var script = Path.GetTempFileName();
        var bodyFile = Path.GetTempFileName();
        await File.WriteAllTextAsync(script, snippet + "\nimport sys\nprint(verify(sys.argv[1], sys.argv[2], open(sys.argv[3], 'rb').read()))\n");
        await File.WriteAllBytesAsync(bodyFile, body);
        try
        {
            return await RunAsync(Tool("FLOWGATE_PYTHON"), [script, key, header, bodyFile]);
        }
        finally
        {
            File.Delete(script);
            File.Delete(bodyFile);
        }
    }

    private static string Tool(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } path
            ? path
            : throw new InvalidOperationException($"{variable} is not set: run tests/services/40-signature-tools.sh (./test.sh does) and `set -a; . tests/services/.env` before dotnet test");

    private static async Task<string> RunAsync(string tool, string[] arguments)
    {
        var start = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        using var process = Process.Start(start)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, $"{tool} failed: {error}");
        return output.Trim();
    }

    private static string RepositoryRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Saas.sln")))
        {
            directory = directory.Parent;
        }
        return directory?.FullName ?? throw new InvalidOperationException("Saas.sln not found above " + AppContext.BaseDirectory);
    }
}
