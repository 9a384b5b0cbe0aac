using System.Text;
using System.Text.Json;
using Azure.Storage.Blobs;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Saas.Functions.Triggers;
using Saas.Functions.Work;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Tenancy;
using Saas.Pipelines.Triggers;
using Saas.Tests;

namespace Saas.Functions.Tests;

public sealed class FunctionTestsOnSqlite() : FunctionTests(StoreAdapter.Sqlite);

/// <summary>The production pairing: PostgreSQL for the state, Azurite for blobs and the work queue.</summary>
public sealed class FunctionTestsOnPostgres() : FunctionTests(StoreAdapter.Postgres);

/// <summary>Each function called with a real trigger payload, against Azurite and each database adapter.</summary>
public abstract class FunctionTests(StoreAdapter adapter)
{
    private const string Http = """
        {"name":"orders","trigger":{"type":"http"},
         "steps":[{"id":"total","type":"map","fields":{"total":"record.qty * record.price"}},
                  {"id":"big","type":"filter","where":"record.total >= 100"}]}
        """;

    private const string Upload = """
        {"name":"uploads","trigger":{"type":"upload","format":"csv"},
         "steps":[{"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}}],
         "sink":{"type":"blob","format":"jsonl"},"settings":{"chunkSize":2}}
        """;

    [Fact]
    public async Task A_synchronous_run_answers_with_the_finished_run_after_its_steps_ran_through_the_work_queue()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (_, key, pipeline) = await app.CreatePipelineAsync(Http);

        var result = await app.Function<TriggerFunctions>().RunAsync(
            Request(key, """[{"qty":2,"price":75},{"qty":1,"price":20}]"""), pipeline.Id, CancellationToken.None);

        var ok = Assert.IsType<ObjectResult>(result);
        Assert.Equal(200, ok.StatusCode);
        var run = Assert.IsType<SynchronousRunResult>(ok.Value);
        Assert.Equal((RunStatus.Succeeded, 2L, 1L), (run.Status, run.RecordsIn, run.RecordsOut));
        Assert.Contains(WorkMessageOutcome.Executed, app.Outcomes);
    }

    [Fact]
    public async Task A_synchronous_run_refuses_a_missing_key_a_foreign_pipeline_and_bad_input_precisely()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (_, keyA, pipelineA) = await app.CreatePipelineAsync(Http, "a");
        var (_, keyB, _) = await app.CreatePipelineAsync(Http, "b");
        var functions = app.Function<TriggerFunctions>();

        var anonymous = await app.AnswerAsync(await functions.RunAsync(Request(null, "{}"), pipelineA.Id, CancellationToken.None));
        var foreign = await app.AnswerAsync(await functions.RunAsync(Request(keyB, "{}"), pipelineA.Id, CancellationToken.None));
        var notJson = await app.AnswerAsync(await functions.RunAsync(Request(keyA, "{\"qty\":"), pipelineA.Id, CancellationToken.None));
        var notRecords = await app.AnswerAsync(await functions.RunAsync(Request(keyA, "[1]"), pipelineA.Id, CancellationToken.None));
        var readOnlyKey = await app.Get<TenantStore>().CreateApiKeyAsync(pipelineA.TenantId, "reader", [Saas.Pipelines.Tenancy.Scopes.RunsRead], CancellationToken.None);
        var readOnly = await app.AnswerAsync(await functions.RunAsync(Request(readOnlyKey.Secret, "{}"), pipelineA.Id, CancellationToken.None));

        Assert.Equal((401, "Bearer"), (anonymous.Status, anonymous.WwwAuthenticate));
        Assert.StartsWith("Send 'Authorization: Bearer fg_live_…' with an API key of your tenant", anonymous.Detail);
        Assert.Equal((404, "pipeline not found", $"No pipeline with id '{pipelineA.Id}' exists in this tenant."), (foreign.Status, foreign.Title, foreign.Detail));
        Assert.Equal((400, "Malformed JSON body"), (notJson.Status, notJson.Title));
        Assert.StartsWith("The body is not valid JSON at line 1, column", notJson.Detail);
        Assert.Equal((403, "The API key lacks the scope 'runs:write'. Use a key created with it (portal API keys page, or POST /api/v1/keys with \"scopes\")."), (readOnly.Status, readOnly.Detail));
        Assert.Equal((400, "Invalid run input"), (notRecords.Status, notRecords.Title));
        Assert.StartsWith("[0] must be an object", notRecords.Detail);
        Assert.Equal(0, app.Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task A_synchronous_run_past_the_tenants_pending_work_limit_answers_429_with_retry_after_and_the_web_hosts_problem()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenant, key, pipeline) = await app.CreatePipelineAsync(Http);
        await app.Get<TenantLimits>().SetAsync(tenant, new TenantLimitOverrides(null, null, null, MaxPendingWork: 0), CancellationToken.None);

        var refused = await app.AnswerAsync(await app.Function<TriggerFunctions>().RunAsync(Request(key, """{"qty":2,"price":75}"""), pipeline.Id, CancellationToken.None));

        Assert.Equal((429, "5", "application/problem+json"), (refused.Status, refused.RetryAfter, refused.ContentType));
        Assert.Equal("Too much pending work", refused.Title);
        Assert.NotNull(refused.Body["traceId"]);
        Assert.Contains("may have at most 0", refused.Detail);
        Assert.Equal("maxPendingWork", refused.Body["limit"]!.GetValue<string>());
        Assert.Equal((0L, 0L), (refused.Body["maxPendingWork"]!.GetValue<long>(), refused.Body["pending"]!.GetValue<long>()));
        Assert.Equal(0, app.Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task A_synchronous_run_of_a_suspended_tenant_answers_402_and_of_a_paused_pipeline_409_as_the_web_host_does()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenant, key, pipeline) = await app.CreatePipelineAsync(Http);
        var (other, pausedKey, paused) = await app.CreatePipelineAsync(Http, "b");
        await app.Get<TenantBillingStore>().SetSuspensionAsync(tenant, "unpaid since March", CancellationToken.None);
        await app.Get<PipelineStore>().SetStatusAsync(other, paused.Id, PipelineStatus.Paused, CancellationToken.None);
        var functions = app.Function<TriggerFunctions>();

        var suspended = await app.AnswerAsync(await functions.RunAsync(Request(key, """{"qty":1}"""), pipeline.Id, CancellationToken.None));
        var pausedRun = await app.AnswerAsync(await functions.RunAsync(Request(pausedKey, """{"qty":1}"""), paused.Id, CancellationToken.None));

        Assert.Equal((402, "Payment required"), (suspended.Status, suspended.Title));
        Assert.Contains("suspended by the platform administrators: unpaid since March", suspended.Detail);
        Assert.Equal((409, "Pipeline is paused"), (pausedRun.Status, pausedRun.Title));
        Assert.StartsWith("https://tools.ietf.org/html/rfc9110#section-15.5.10", pausedRun.Body["type"]!.GetValue<string>());
        Assert.Equal($"Pipeline '{paused.Id}' is paused; POST /api/v1/pipelines/{paused.Id}/resume to start runs again.", pausedRun.Detail);
        Assert.Equal(0, app.Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task A_synchronous_run_refuses_a_body_over_the_web_hosts_limit_whether_declared_or_streamed()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (_, key, pipeline) = await app.CreatePipelineAsync(Http);
        var functions = app.Function<TriggerFunctions>();
        var declared = Request(key, "{}");
        declared.ContentLength = RequestRefusal.MaxJsonBytes + 1;
        // Without a Content-Length (chunked) the limit stops the read itself.
        var streamed = Request(key, "[" + string.Join(",", Enumerable.Repeat("""{"qty":1,"price":1}""", 600_000)) + "]");

        foreach (var request in new[] { declared, streamed })
        {
            var refused = await app.AnswerAsync(await functions.RunAsync(request, pipeline.Id, CancellationToken.None));
            Assert.Equal((413, "Request body too large"), (refused.Status, refused.Title));
            Assert.Contains("Send large inputs as a file to POST /api/v1/pipelines/{id}/uploads", refused.Detail);
        }
        Assert.Equal(0, app.Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task A_file_uploaded_under_the_tenant_and_pipeline_starts_a_run_of_that_pipeline()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenant, _, pipeline) = await app.CreatePipelineAsync(Upload);
        var blob = await UploadAsync($"{tenant}/{pipeline.Id}/orders.csv", "order,qty,price\nA-1,2,75\nA-2,1,20\nA-3,10,12.5\n");

        var runId = await app.Function<TriggerFunctions>().UploadAsync(blob, tenant, pipeline.Id, "orders.csv", CancellationToken.None);

        Assert.NotNull(runId);
        var run = await app.WaitForRunAsync(tenant, runId);
        Assert.Equal((RunStatus.Succeeded, 3L, 2L), (run.Status, run.RecordsOut, run.ChunksTotal));
    }

    [Fact]
    public async Task An_upload_naming_another_tenants_pipeline_or_a_pipeline_without_an_upload_trigger_starts_nothing()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenantA, _, uploads) = await app.CreatePipelineAsync(Upload, "a");
        var (tenantB, _, http) = await app.CreatePipelineAsync(Http, "b");
        var functions = app.Function<TriggerFunctions>();

        var foreign = await functions.UploadAsync(await UploadAsync($"{tenantB}/{uploads.Id}/x.csv", "a\n1\n"), tenantB, uploads.Id, "x.csv", CancellationToken.None);
        var wrongTrigger = await functions.UploadAsync(await UploadAsync($"{tenantB}/{http.Id}/x.csv", "a\n1\n"), tenantB, http.Id, "x.csv", CancellationToken.None);

        Assert.Null(foreign);
        Assert.Null(wrongTrigger);
        Assert.Equal(0, app.Scalar("SELECT COUNT(*) FROM runs"));
        Assert.NotEqual(tenantA, tenantB);
    }

    [Fact]
    public async Task The_same_file_delivered_twice_starts_one_run_and_an_overwrite_starts_another()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenant, _, pipeline) = await app.CreatePipelineAsync(Upload);
        var path = $"{tenant}/{pipeline.Id}/orders.csv";
        await UploadAsync(path, "order,qty,price\nA-1,2,75\n");
        var functions = app.Function<TriggerFunctions>();
        var container = Azurite.Blobs().GetBlobContainerClient("uploads");

        // Two deliveries of one event, at once, each with its own client as two instances would have.
        var deliveries = await Task.WhenAll(Enumerable.Range(0, 2).Select(_ =>
            functions.UploadAsync(container.GetBlobClient(path), tenant, pipeline.Id, "orders.csv", CancellationToken.None)));
        var later = await functions.UploadAsync(container.GetBlobClient(path), tenant, pipeline.Id, "orders.csv", CancellationToken.None);
        await UploadAsync(path, "order,qty,price\nB-1,1,10\nB-2,3,10\n");
        var overwritten = await functions.UploadAsync(container.GetBlobClient(path), tenant, pipeline.Id, "orders.csv", CancellationToken.None);

        Assert.Equal(deliveries[0], deliveries[1]);
        Assert.Equal(deliveries[0], later);
        Assert.NotEqual(deliveries[0], overwritten);
        Assert.Equal(2, app.Scalar("SELECT COUNT(*) FROM runs"));
        var first = await app.WaitForRunAsync(tenant, deliveries[0]!);
        var second = await app.WaitForRunAsync(tenant, overwritten!);
        Assert.Equal((RunStatus.Succeeded, (long?)1), (first.Status, first.RecordsOut));
        Assert.Equal((RunStatus.Succeeded, (long?)2), (second.Status, second.RecordsOut));
        var inputs = new List<string>();
        await foreach (var blob in Azurite.Blobs().GetBlobContainerClient(app.Container).GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, $"{tenant}/runs/", CancellationToken.None))
        {
            inputs.Add(blob.Name);
        }
        Assert.Equal(2, inputs.Count(n => n.EndsWith("/input.csv", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task An_http_step_with_a_secret_the_web_host_encrypted_runs_in_the_functions_app_through_the_shared_key_ring()
    {
        var keyRing = $"{Azurite.NewContainerName()}/keyring.xml";
        await using var crm = await Saas.Pipelines.Tests.Enrich.LocalServer.StartAsync(context => context.Response.WriteAsJsonAsync(new { tier = "gold" }));
        await using var app = new FunctionsApp(adapter: adapter, settings: new Dictionary<string, string?>
        {
            [Saas.Pipelines.Secrets.SecretProtectionServiceCollectionExtensions.KeyRingBlobSetting] = keyRing,
            ["Flowgate:Network:AllowedPrivateNetworks:0"] = "127.0.0.1/32",
        });
        var (tenant, key, pipeline) = await app.CreatePipelineAsync($$$"""
            {"name":"crm","trigger":{"type":"http"},"steps":[
              {"id":"enrich","type":"http","url":"{{{crm.Url}}}customers/{{record.id}}",
               "headers":{"Authorization":"Bearer {{secrets.crm}}"},"fields":{"tier":"response.tier"}}]}
            """);
        // The web host's side: its own Data Protection services on the same key ring blob encrypt the secret into the shared database.
        await using var web = new ServiceCollection()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                [Saas.Pipelines.Secrets.SecretProtectionServiceCollectionExtensions.KeyRingBlobSetting] = keyRing,
                ["ConnectionStrings:Blobs"] = Azurite.ConnectionString,
            }).Build())
            .AddLogging().AddSecretProtection(Path.Combine(Path.GetTempPath(), "flowgate-unused-keys")).BuildServiceProvider();
        await new Saas.Pipelines.Secrets.TenantSecrets(app.Get<Saas.Pipelines.Storage.Database>(), web.GetRequiredService<Saas.Pipelines.Secrets.ISecretProtector>(), TimeProvider.System)
            .SaveAsync(tenant, "crm", "tok-only-the-web-host-saw", CancellationToken.None);

        var result = await app.Function<TriggerFunctions>().RunAsync(Request(key, """{"id":"7"}"""), pipeline.Id, CancellationToken.None);

        var run = Assert.IsType<SynchronousRunResult>(Assert.IsType<ObjectResult>(result).Value);
        Assert.True(run.Status == RunStatus.Succeeded, run.Error);
        var call = Assert.Single(crm.Requests);
        Assert.Equal(("/customers/7", "Bearer tok-only-the-web-host-saw"), (call.PathAndQuery, call.Headers["Authorization"]));
        var ring = (await Azurite.Blobs().GetBlobContainerClient(keyRing.Split('/')[0]).GetBlobClient("keyring.xml").DownloadContentAsync()).Value.Content.ToString();
        Assert.Single(System.Xml.Linq.XDocument.Parse(ring).Root!.Elements("key"));
        await Azurite.Blobs().GetBlobContainerClient(keyRing.Split('/')[0]).DeleteIfExistsAsync();
    }

    [Fact]
    public async Task The_schedule_timer_fires_due_schedules_and_their_runs_complete()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenant, _, _) = await app.CreatePipelineAsync("""
            {"name":"every-second","trigger":{"type":"schedule","cron":"* * * * * *"},
             "steps":[{"id":"stamp","type":"map","fields":{"seen":"true"}}]}
            """);
        await Task.Delay(TimeSpan.FromSeconds(1.2));

        var started = await app.Function<TriggerFunctions>().TickAsync(new TimerInfo(), CancellationToken.None);

        var run = await app.WaitForRunAsync(tenant, Assert.Single(started));
        Assert.Equal(RunStatus.Succeeded, run.Status);
    }

    [Fact]
    public async Task The_messages_timer_turns_messages_posted_to_a_flowgate_queue_into_runs()
    {
        await using var app = new FunctionsApp(adapter: adapter);
        var (tenant, _, _) = await app.CreatePipelineAsync("""
            {"name":"listener","trigger":{"type":"queue","queue":"orders"},"steps":[{"id":"a","type":"drop","fields":["x"]}]}
            """);
        await app.Get<QueueMessages>().PostAsync(tenant, "orders", [JsonDocument.Parse("""{"x":1,"y":2}""").RootElement], CancellationToken.None);

        var taken = await app.Function<TriggerFunctions>().PumpMessagesAsync(new TimerInfo(), CancellationToken.None);

        Assert.Equal(1, taken);
        var runId = app.Get<RunStore>().List(tenant, null, null, 10, null).Runs.Single().Id;
        Assert.Equal(RunStatus.Succeeded, (await app.WaitForRunAsync(tenant, runId)).Status);
    }

    [Fact]
    public async Task The_relay_timer_sends_work_whose_message_was_lost_once_its_lease_ran_out()
    {
        await using var app = new FunctionsApp(leaseSeconds: 1, adapter: adapter);
        var (tenant, _, pipeline) = await app.CreatePipelineAsync(Http);
        // Created as the web host (embedded runtime off) would: committed, its message never sent.
        var prepared = await app.Get<RunStarter>().PrepareAsync(tenant, pipeline, JsonDocument.Parse("""{"qty":2,"price":75}""").RootElement, "http", CancellationToken.None);
        var runId = await app.Get<Saas.Pipelines.Storage.Database>().WriteAsync((connection, transaction) => app.Get<RunStore>().Create(connection, transaction, [prepared]).Runs[0].Id, CancellationToken.None);
        var relay = app.Function<WorkFunctions>();

        Assert.Equal(0, await relay.RelayAsync(new TimerInfo(), CancellationToken.None));
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(1, await relay.RelayAsync(new TimerInfo(), CancellationToken.None));

        Assert.Equal(RunStatus.Succeeded, (await app.WaitForRunAsync(tenant, runId)).Status);
    }

    private static HttpRequest Request(string? apiKey, string body)
    {
        var context = new DefaultHttpContext();
        context.Request.Method = "POST";
        context.Request.ContentType = "application/json";
        context.Request.Body = new MemoryStream(Encoding.UTF8.GetBytes(body));
        if (apiKey is not null)
        {
            context.Request.Headers.Authorization = $"Bearer {apiKey}";
        }
        return context.Request;
    }

    private static async Task<BlobClient> UploadAsync(string name, string content)
    {
        var container = Azurite.Blobs().GetBlobContainerClient("uploads");
        await container.CreateIfNotExistsAsync();
        var blob = container.GetBlobClient(name);
        await blob.UploadAsync(new BinaryData(content), overwrite: true);
        return blob;
    }
}

public sealed class FunctionsConfigurationTests
{
    [Fact]
    public void The_functions_app_refuses_to_start_without_the_storage_queue_and_says_which_settings_to_set()
    {
        var configuration = new Microsoft.Extensions.Configuration.ConfigurationBuilder().Build();

        var error = Assert.Throws<InvalidOperationException>(() => new ServiceCollection().AddFlowgateFunctions(configuration));

        Assert.Contains("Flowgate__Queue__Provider=azure-storage", error.Message);
        Assert.Contains("ConnectionStrings__Queues", error.Message);
    }
}
