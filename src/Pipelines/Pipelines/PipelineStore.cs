using System.Collections.Concurrent;
using Dapper;
using System.Data.Common;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Pipelines;

public sealed record PipelineRow(
    string TenantId, string Id, string Name, long CurrentVersion, string Status,
    string TriggerType, string? TriggerQueue, long CreatedAt, long UpdatedAt);

/// <param name="PublishedBy">A portal user's e-mail or id, an API key's id, or null (published before this was recorded).</param>
public sealed record PipelineVersionRow(string PipelineId, long Version, string Definition, long CreatedAt, string? PublishedBy);

public static class PipelineStatus
{
    public const string Active = "active";
    public const string Paused = "paused";
}

/// <summary>Pipelines and their immutable versions. Compiled versions are cached for good: they never change.</summary>
public sealed class PipelineStore(Database database, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string TenantId, string PipelineId, long Version), CompiledPipeline> _compiled = new();

    private const string PipelineColumns = "tenant_id, id, name, current_version, status, trigger_type, trigger_queue, created_at, updated_at";

    public async Task<PipelineRow> CreateAsync(string tenantId, string definitionJson, CompiledPipeline pipeline, string? publishedBy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var trigger = pipeline.Definition.Trigger;
        var row = new PipelineRow(tenantId, Ids.New("pl"), pipeline.Definition.Name, 1, PipelineStatus.Active, trigger.Type, trigger.Queue, now, now);
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = $"""
                INSERT INTO pipelines ({PipelineColumns})
                VALUES (@TenantId, @Id, @Name, @CurrentVersion, @Status, @TriggerType, @TriggerQueue, @CreatedAt, @UpdatedAt)
                """;
            connection.Execute(sql, row, transaction);
            InsertVersion(connection, transaction, tenantId, row.Id, 1, definitionJson, publishedBy, now);
        }, cancellationToken);
        _compiled[(tenantId, row.Id, 1)] = pipeline;
        return row;
    }

    /// <returns>The pipeline at its new version, or null if the tenant has no such pipeline.</returns>
    public async Task<PipelineRow?> PublishAsync(string tenantId, string pipelineId, string definitionJson, CompiledPipeline pipeline, string? publishedBy, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var trigger = pipeline.Definition.Trigger;
        var row = await database.WriteAsync((connection, transaction) =>
        {
            const string sql = $"""
                UPDATE pipelines
                SET current_version = current_version + 1, name = @Name, trigger_type = @TriggerType, trigger_queue = @TriggerQueue, updated_at = @now
                WHERE tenant_id = @tenantId AND id = @pipelineId
                RETURNING {PipelineColumns}
                """;
            var updated = connection.QuerySingleOrDefault<PipelineRow>(sql, new { tenantId, pipelineId, pipeline.Definition.Name, TriggerType = trigger.Type, TriggerQueue = trigger.Queue, now }, transaction);
            if (updated is not null)
            {
                InsertVersion(connection, transaction, tenantId, pipelineId, updated.CurrentVersion, definitionJson, publishedBy, now);
            }
            return updated;
        }, cancellationToken);
        if (row is not null)
        {
            _compiled[(tenantId, pipelineId, row.CurrentVersion)] = pipeline;
        }
        return row;
    }

    public async Task<PipelineRow?> SetStatusAsync(string tenantId, string pipelineId, string status, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = $"""
                UPDATE pipelines SET status = @status, updated_at = @now
                WHERE tenant_id = @tenantId AND id = @pipelineId
                RETURNING {PipelineColumns}
                """;
            return connection.QuerySingleOrDefault<PipelineRow>(sql, new { tenantId, pipelineId, status, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction);
        }, cancellationToken);

    public PipelineRow? Find(string tenantId, string pipelineId)
    {
        const string sql = $"""
            SELECT {PipelineColumns} FROM pipelines WHERE tenant_id = @tenantId AND id = @pipelineId
            """;
        using var connection = database.OpenConnection();
        using var r = connection.Prepared(sql, null).With("@tenantId", tenantId).With("@pipelineId", pipelineId).ExecuteReader();
        return r.Read()
            ? new PipelineRow(r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetString(5), r.GetStringOrNull(6), r.GetInt64(7), r.GetInt64(8))
            : null;
    }

    public IReadOnlyList<PipelineRow> List(string tenantId)
    {
        const string sql = $"""
            SELECT {PipelineColumns} FROM pipelines WHERE tenant_id = @tenantId ORDER BY created_at DESC
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PipelineRow>(sql, new { tenantId }).AsList();
    }

    public IReadOnlyList<PipelineRow> ListByQueue(string tenantId, string queue)
    {
        const string sql = $"""
            SELECT {PipelineColumns} FROM pipelines
            WHERE tenant_id = @tenantId AND trigger_queue = @queue AND trigger_type = 'queue' AND status = 'active'
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PipelineRow>(sql, new { tenantId, queue }).AsList();
    }

    /// <summary>Every tenant's active scheduled pipelines: the scheduler's view, which then works per tenant.</summary>
    public IReadOnlyList<PipelineRow> ListScheduledAcrossTenants()
    {
        const string sql = $"""
            SELECT {PipelineColumns} FROM pipelines WHERE trigger_type = 'schedule' AND status = 'active'
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PipelineRow>(sql).AsList();
    }

    /// <summary>Every tenant's active queue-triggered pipelines: the Service Bus pump picks those listening to Service Bus.</summary>
    public IReadOnlyList<PipelineRow> ListQueueTriggeredAcrossTenants()
    {
        const string sql = $"""
            SELECT {PipelineColumns} FROM pipelines WHERE trigger_type = 'queue' AND status = 'active'
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PipelineRow>(sql).AsList();
    }

    public IReadOnlyList<PipelineVersionRow> ListVersions(string tenantId, string pipelineId)
    {
        const string sql = """
            SELECT pipeline_id, version, definition, created_at, published_by FROM pipeline_versions
            WHERE tenant_id = @tenantId AND pipeline_id = @pipelineId ORDER BY version DESC
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PipelineVersionRow>(sql, new { tenantId, pipelineId }).AsList();
    }

    public PipelineVersionRow? FindVersion(string tenantId, string pipelineId, long version)
    {
        const string sql = """
            SELECT pipeline_id, version, definition, created_at, published_by FROM pipeline_versions
            WHERE tenant_id = @tenantId AND pipeline_id = @pipelineId AND version = @version
            """;
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<PipelineVersionRow>(sql, new { tenantId, pipelineId, version });
    }

    /// <summary>The runnable form of a version. Throws if the version does not exist.</summary>
    public CompiledPipeline GetCompiled(string tenantId, string pipelineId, long version)
    {
        if (_compiled.TryGetValue((tenantId, pipelineId, version), out var cached))
        {
            return cached;
        }
        var row = FindVersion(tenantId, pipelineId, version)
            ?? throw new InvalidOperationException($"pipeline {pipelineId} has no version {version}");
        var result = DefinitionParser.Parse(row.Definition);
        var pipeline = result.Pipeline
            ?? throw new InvalidOperationException($"stored definition of {pipelineId} v{version} no longer validates: {string.Join("; ", result.Errors)}");
        return _compiled.GetOrAdd((tenantId, pipelineId, version), pipeline);
    }

    private static void InsertVersion(DbConnection connection, DbTransaction transaction, string tenantId, string pipelineId, long version, string definition, string? publishedBy, long now)
    {
        const string sql = """
            INSERT INTO pipeline_versions (tenant_id, pipeline_id, version, definition, created_at, published_by)
            VALUES (@tenantId, @pipelineId, @version, @definition, @now, @publishedBy)
            """;
        connection.Execute(sql, new { tenantId, pipelineId, version, definition, now, publishedBy }, transaction);
    }
}
