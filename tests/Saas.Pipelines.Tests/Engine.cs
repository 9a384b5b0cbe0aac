using System.Text.Json;
using Dapper;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Tenancy;
using Saas.Pipelines.Triggers;

namespace Saas.Pipelines.Tests;

/// <summary>
/// The engine on a real database (SQLite, or a fresh PostgreSQL database of its own) and a real blob
/// folder, driven by hand instead of by hosted workers.
/// </summary>
public sealed class Engine : IAsyncDisposable
{
    private readonly ServiceProvider _services;
    private readonly bool _ownsDirectory;
    private readonly Saas.Tests.PostgresDatabase? _postgres;

    /// <param name="settings">Configuration added to (or overriding) the test defaults.</param>
    /// <param name="postgres">A PostgreSQL database to use (several engines sharing one), instead of a new one per engine.</param>
    public Engine(
        Action<IServiceCollection>? configure = null, string? dataDirectory = null, IReadOnlyDictionary<string, string?>? settings = null,
        Saas.Tests.StoreAdapter adapter = Saas.Tests.StoreAdapter.Sqlite, string? postgres = null)
    {
        _ownsDirectory = dataDirectory is null;
        DataDirectory = dataDirectory ?? Path.Combine(Path.GetTempPath(), "flowgate-engine-tests", Guid.NewGuid().ToString("N"));
        if (adapter == Saas.Tests.StoreAdapter.Postgres && postgres is null)
        {
            _postgres = Saas.Tests.Postgres.NewDatabase();
            postgres = _postgres.ConnectionString;
        }
        var database = adapter == Saas.Tests.StoreAdapter.Postgres
            ? new Dictionary<string, string?> { ["Flowgate:Database:Provider"] = "postgres", ["ConnectionStrings:Flowgate"] = postgres }
            : [];
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Flowgate:DataDirectory"] = DataDirectory,
            ["Flowgate:Runtime:RetryBaseDelayMilliseconds"] = "1",
            ["Flowgate:Runtime:LeaseSeconds"] = "5",
            ["Flowgate:Runtime:UncommittedChainMilliseconds"] = "60000",
        }).AddInMemoryCollection(database).AddInMemoryCollection(settings ?? new Dictionary<string, string?>()).Build();
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(configuration);
        services.AddLogging(logging => logging.SetMinimumLevel(LogLevel.Warning));
        services.AddPipelines();
        services.AddStorageQueueWork(configuration);
        configure?.Invoke(services);
        _services = services.BuildServiceProvider();
    }

    public string DataDirectory { get; }

    public T Get<T>() where T : notnull => _services.GetRequiredService<T>();

    public async Task<(string TenantId, PipelineRow Pipeline)> CreatePipelineAsync(string definition, string tenantName = "t")
    {
        var (tenant, _) = await Get<TenantStore>().CreateTenantAsync(tenantName, CancellationToken.None);
        var compiled = DefinitionParser.Parse(definition);
        Assert.True(compiled.IsValid, string.Join("; ", compiled.Errors));
        var pipeline = await Get<PipelineStore>().CreateAsync(tenant.Id, definition, compiled.Pipeline!, null, CancellationToken.None);
        return (tenant.Id, pipeline);
    }

    public async Task<RunRow> StartAsync(string tenantId, PipelineRow pipeline, string recordsJson)
    {
        using var records = JsonDocument.Parse(recordsJson);
        return await Get<RunStarter>().StartAsync(tenantId, pipeline, records.RootElement, TriggerTypes.Http, CancellationToken.None);
    }

    /// <summary>Takes the next dispatched item, as a worker would.</summary>
    public WorkItem Take()
    {
        Assert.True(Get<WorkDispatcher>().TryTake(out var work), "no work was dispatched");
        return work.Item;
    }

    /// <summary>Executes dispatched and due work until none is left, waiting out retry backoffs.</summary>
    public async Task DrainAsync(TimeSpan? timeout = null)
    {
        var dispatcher = Get<WorkDispatcher>();
        var executor = Get<RunExecutor>();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(30));
        while (DateTime.UtcNow < deadline)
        {
            while (dispatcher.TryTake(out var work))
            {
                await executor.ExecuteAsync(work.Item, work.Run, CancellationToken.None);
            }
            var due = await Get<WorkQueue>().LeaseDue(100, CancellationToken.None);
            if (due.Count > 0)
            {
                dispatcher.Dispatch(due);
                continue;
            }
            if (Scalar("SELECT COUNT(*) FROM work_items") == 0)
            {
                return;
            }
            await Task.Delay(5);
        }
        throw new TimeoutException("work did not drain");
    }

    public long Scalar(string sql, object? parameters = null)
    {
        using var connection = Get<Database>().OpenConnection();
        return connection.ExecuteScalar<long>(sql, parameters);
    }

    public async ValueTask DisposeAsync()
    {
        await _services.DisposeAsync();
        _postgres?.Dispose();
        if (_ownsDirectory)
        {
            try
            {
                Directory.Delete(DataDirectory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
