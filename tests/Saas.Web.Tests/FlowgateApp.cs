using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Saas.Pipelines.Tenancy;
using Microsoft.Extensions.DependencyInjection;

namespace Saas.Web.Tests;

/// <summary>The real app on Kestrel over loopback, with its own data folder and fast retry timings.</summary>
public class FlowgateApp : IAsyncLifetime
{
    private WebApplication? _app;
    private Saas.Tests.PostgresDatabase? _postgres;

    public string DataDirectory { get; } = Path.Combine(Path.GetTempPath(), "flowgate-tests", Guid.NewGuid().ToString("N"));

    public Uri BaseAddress { get; private set; } = null!;

    public IServiceProvider Services => _app!.Services;

    /// <summary>Settings a test class needs beyond the defaults.</summary>
    protected virtual string[] ExtraArguments => [];

    /// <summary>
    /// <c>FLOWGATE_TEST_DATABASE=postgres</c> runs the host on a fresh PostgreSQL database of its own
    /// (from tests/services/10-postgres.sh) instead of SQLite, so the whole HTTP suite can run on both.
    /// </summary>
    private string[] DatabaseArguments()
    {
        if (Environment.GetEnvironmentVariable("FLOWGATE_TEST_DATABASE") != "postgres")
        {
            return [];
        }
        _postgres = Saas.Tests.Postgres.NewDatabase();
        return ["--Flowgate:Database:Provider=postgres", $"--ConnectionStrings:Flowgate={_postgres.ConnectionString}"];
    }

    public async Task InitializeAsync()
    {
        _app = FlowgateHost.Build([
            .. DatabaseArguments(),
            "--urls=http://127.0.0.1:0",
            $"--Flowgate:DataDirectory={DataDirectory}",
            "--Flowgate:Runtime:RetryBaseDelayMilliseconds=20",
            "--Flowgate:Runtime:PollIntervalMilliseconds=25",
            "--Flowgate:Network:AllowedPrivateNetworks:0=127.0.0.0/8",
            "--Logging:LogLevel:Default=Warning",
            "--Logging:LogLevel:Microsoft.AspNetCore=Error",
            .. ExtraArguments,
        ]);
        await _app.StartAsync();
        BaseAddress = new Uri(_app.Urls.First());
    }

    public async Task<TenantClient> CreateTenantAsync(string name = "acme")
    {
        var (tenant, key) = await Services.GetRequiredService<TenantStore>().CreateTenantAsync(name, CancellationToken.None);
        return new TenantClient(tenant.Id, Client(key.Secret));
    }

    public HttpClient Client(string? apiKey = null)
    {
        var client = new HttpClient { BaseAddress = BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        if (apiKey is not null)
        {
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
        }
        return client;
    }

    public async Task DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.StopAsync();
            await _app.DisposeAsync();
        }
        _postgres?.Dispose();
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>An HTTP client that carries one tenant's API key, with the calls tests make most.</summary>
public sealed class TenantClient(string tenantId, HttpClient http)
{
    public string TenantId { get; } = tenantId;

    public HttpClient Http { get; } = http;

    public async Task<string> CreatePipelineAsync(object definition)
    {
        var response = await Http.PostAsJsonAsync("/api/v1/pipelines", definition);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"creating the pipeline failed: {(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!["id"]!.GetValue<string>();
    }

    public async Task<JsonNode> RunAndWaitAsync(string pipelineId, object input)
    {
        var response = await Http.PostAsJsonAsync($"/api/v1/pipelines/{pipelineId}/runs?wait=true", input);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, $"{(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public async Task<JsonNode> UploadAsync(string pipelineId, string content)
    {
        var response = await Http.PostAsync($"/api/v1/pipelines/{pipelineId}/uploads", new StringContent(content, Encoding.UTF8, "text/csv"));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == System.Net.HttpStatusCode.Accepted, $"{(int)response.StatusCode} {body}");
        return JsonNode.Parse(body)!;
    }

    public async Task<JsonNode> GetRunAsync(string runId) =>
        JsonNode.Parse(await Http.GetStringAsync($"/api/v1/runs/{runId}"))!;

    /// <summary>Polls until the run has finished (a generous bound: CI machines are slow).</summary>
    public async Task<JsonNode> WaitForRunAsync(string runId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var run = await GetRunAsync(runId);
            var status = run["status"]!.GetValue<string>();
            if (status is "succeeded" or "failed" or "cancelled")
            {
                return run;
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"run {runId} is still {status}: {run.ToJsonString()}");
            }
            await Task.Delay(25);
        }
    }

    public async Task<List<JsonObject>> OutputRecordsAsync(string runId) =>
        (await Http.GetStringAsync($"/api/v1/runs/{runId}/output"))
            .Split('\n', StringSplitOptions.RemoveEmptyEntries)
            .Select(line => JsonNode.Parse(line)!.AsObject())
            .ToList();

    public static JsonSerializerOptions Json { get; } = new(JsonSerializerDefaults.Web);
}
