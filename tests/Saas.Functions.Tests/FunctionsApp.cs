using Azure.Storage.Queues.Models;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Saas.Functions.Triggers;
using Saas.Functions.Work;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Tenancy;
using Saas.Tests;

namespace Saas.Functions.Tests;

/// <summary>
/// The Functions app's services as Program.cs builds them (SQLite or a fresh PostgreSQL database, blobs
/// and the work queue in Azurite), its hosted services started, and its functions constructed by dependency injection as the
/// worker does. A pump stands in for the Functions host: it receives work messages and calls <see cref="WorkFunctions"/>.
/// </summary>
public sealed class FunctionsApp : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly List<IHostedService> _hosted;
    private readonly CancellationTokenSource _stopping = new();
    private readonly Task _pump;
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowgate-functions-tests", Guid.NewGuid().ToString("N"));
    private readonly PostgresDatabase? _postgres;

    public FunctionsApp(int leaseSeconds = 5, IReadOnlyDictionary<string, string?>? settings = null, StoreAdapter adapter = StoreAdapter.Sqlite)
    {
        Container = Azurite.NewContainerName();
        Queue = $"work-{Guid.NewGuid():N}";
        _postgres = adapter == StoreAdapter.Postgres ? Postgres.NewDatabase() : null;
        var database = _postgres is null
            ? new Dictionary<string, string?>()
            : new Dictionary<string, string?> { ["Flowgate:Database:Provider"] = "postgres", ["ConnectionStrings:Flowgate"] = _postgres.ConnectionString };
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(database).AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Flowgate:DataDirectory"] = _directory,
            ["Flowgate:Runtime:LeaseSeconds"] = leaseSeconds.ToString(),
            ["Flowgate:Runtime:RetryBaseDelayMilliseconds"] = "1",
            ["Flowgate:Blobs:Provider"] = "azure",
            ["Flowgate:Blobs:Container"] = Container,
            ["ConnectionStrings:Blobs"] = Azurite.ConnectionString,
            ["Flowgate:Queue:Provider"] = "azure-storage",
            ["Flowgate:Queue:Name"] = Queue,
            ["ConnectionStrings:Queues"] = Azurite.ConnectionString,
        }).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddFlowgateFunctions(configuration);
        _services = services.BuildServiceProvider();
        _hosted = _services.GetServices<IHostedService>().ToList();
        foreach (var hosted in _hosted)
        {
            hosted.StartAsync(CancellationToken.None).GetAwaiter().GetResult();
        }
        _pump = Task.Run(() => PumpAsync(_stopping.Token));
    }

    public string Container { get; }

    public string Queue { get; }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public T Function<T>() => ActivatorUtilities.CreateInstance<T>(_services);

    public List<WorkMessageOutcome> Outcomes { get; } = [];

    public async Task<(string TenantId, string ApiKey, PipelineRow Pipeline)> CreatePipelineAsync(string definition, string tenantName = "t")
    {
        var (tenant, key) = await Get<TenantStore>().CreateTenantAsync(tenantName, CancellationToken.None);
        var compiled = DefinitionParser.Parse(definition);
        Assert.True(compiled.IsValid, string.Join("; ", compiled.Errors));
        var pipeline = await Get<PipelineStore>().CreateAsync(tenant.Id, definition, compiled.Pipeline!, publishedBy: null, CancellationToken.None);
        return (tenant.Id, key.Secret, pipeline);
    }

    public async Task<RunRow> WaitForRunAsync(string tenantId, string runId, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (true)
        {
            var run = Get<RunStore>().Find(tenantId, runId)!;
            if (RunStatus.IsFinished(run.Status) || DateTime.UtcNow > deadline)
            {
                return run;
            }
            await Task.Delay(20);
        }
    }

    /// <summary>What a function's answer writes, executed as the worker's ASP.NET Core integration does (for refusals: status, Retry-After and problem body).</summary>
    public async Task<Answer> AnswerAsync(Microsoft.AspNetCore.Mvc.IActionResult result)
    {
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext { RequestServices = _services };
        context.Response.Body = new MemoryStream();
        await result.ExecuteResultAsync(new Microsoft.AspNetCore.Mvc.ActionContext(context, new Microsoft.AspNetCore.Routing.RouteData(), new Microsoft.AspNetCore.Mvc.Abstractions.ActionDescriptor()));
        context.Response.Body.Position = 0;
        var body = (System.Text.Json.Nodes.JsonNode.Parse(context.Response.Body) as System.Text.Json.Nodes.JsonObject)!;
        return new Answer(context.Response.StatusCode, Header(context.Response.Headers.RetryAfter), Header(context.Response.Headers.WWWAuthenticate),
            context.Response.ContentType, body["title"]?.GetValue<string>(), body["detail"]?.GetValue<string>(), body);
    }

    private static string? Header(Microsoft.Extensions.Primitives.StringValues value) => value.ToString() is { Length: > 0 } text ? text : null;

    public sealed record Answer(int Status, string? RetryAfter, string? WwwAuthenticate, string? ContentType, string? Title, string? Detail, System.Text.Json.Nodes.JsonObject Body);

    public long Scalar(string sql, object? parameters = null)
    {
        using var connection = Get<Database>().OpenConnection();
        return connection.ExecuteScalar<long>(sql, parameters);
    }

    private async Task PumpAsync(CancellationToken stopping)
    {
        var work = Get<StorageWorkQueue>().Work;
        var function = Function<WorkFunctions>();
        while (!stopping.IsCancellationRequested)
        {
            try
            {
                QueueMessage[] messages = (await work.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(30), stopping)).Value;
                if (messages.Length == 0)
                {
                    await Task.Delay(20, stopping);
                    continue;
                }
                await Task.WhenAll(messages.Select(async message =>
                {
                    var outcome = await function.ExecuteAsync(message, stopping);
                    lock (Outcomes)
                    {
                        Outcomes.Add(outcome);
                    }
                    await work.DeleteMessageAsync(message.MessageId, message.PopReceipt, stopping);
                }));
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
                return;
            }
            catch (Azure.RequestFailedException error) when (error.Status == 404)
            {
                await Task.Delay(20, stopping); // the queue is created with the first message
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stopping.CancelAsync();
        try
        {
            await _pump;
        }
        catch (OperationCanceledException)
        {
        }
        foreach (var hosted in _hosted)
        {
            await hosted.StopAsync(CancellationToken.None);
        }
        await _services.DisposeAsync();
        _postgres?.Dispose();
        var queues = Azurite.Queues();
        await queues.GetQueueClient(Queue).DeleteIfExistsAsync();
        await queues.GetQueueClient($"{Queue}-poison").DeleteIfExistsAsync();
        await Azurite.Blobs().GetBlobContainerClient(Container).DeleteIfExistsAsync();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
