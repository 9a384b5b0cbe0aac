using Dapper;
using System.Data.Common;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Telemetry;

namespace Saas.Pipelines.Runs;

public sealed record RunRow(
    string Id, string TenantId, string PipelineId, long Version, string Trigger, string Status,
    string InputKey, string InputFormat, long? ChunksTotal, long ChunksDone, long? RecordsIn, long? RecordsOut,
    string? OutputKey, string? Error, string? ReplayOf, long CreatedAt, long? StartedAt, long? FinishedAt);

public sealed record StepRunRow(
    string RunId, long StepIndex, long Chunk, string StepId, string Status, long Attempts,
    long? RecordsIn, long? RecordsOut, double? DurationMs, string? Error, string? ErrorRecord, long? StartedAt, long? FinishedAt);

public sealed record DeadLetterRow(long Id, string RunId, string Kind, long StepIndex, long Chunk, long Attempts, string Reason, long CreatedAt);

/// <summary>A run to create: its input is already stored at <see cref="InputKey"/>.</summary>
public sealed record NewRun(
    string TenantId, string PipelineId, long Version, string Trigger, string InputKey, string InputFormat,
    long? Records, string? ReplayOf)
{
    public string Id { get; init; } = Ids.New("run");

    /// <summary>The input itself, when small enough to be saved with the run instead of as a file.</summary>
    public ReadOnlyMemory<byte>? InlineInput { get; init; }

    /// <summary>
    /// Whoever writes the input decides: a record count is given only when the input fits one chunk
    /// and was written as chunk 0, so the run skips the split.
    /// </summary>
    public bool IsSingleChunk => Records is not null;
}

public sealed record RunPage(IReadOnlyList<RunRow> Runs, string? NextCursor);

public sealed record RunsPerDay(string Day, long Total, long Failed, long Succeeded);

/// <summary>Runs, their step runs and their creation. Every query takes the tenant id.</summary>
public sealed class RunStore(Database database, WorkQueue queue, WorkDispatcher dispatcher, TimeProvider time)
{
    private const string RunColumns = """
        id, tenant_id, pipeline_id, version, trigger, status, input_key, input_format, chunks_total, chunks_done,
        records_in, records_out, output_key, error, replay_of, created_at, started_at, finished_at
        """;

    private const string StepRunColumns = """
        run_id, step_index, chunk, step_id, status, attempts, records_in, records_out, duration_ms, error, error_record, started_at, finished_at
        """;

    /// <summary>Creates runs and their first work items in one transaction, then starts them on this node.</summary>
    public async Task<IReadOnlyList<RunRow>> CreateAsync(IReadOnlyList<NewRun> runs, CancellationToken cancellationToken)
    {
        var tenantId = runs.Count > 0 && runs.All(r => r.TenantId == runs[0].TenantId) ? runs[0].TenantId : null;
        var (rows, items) = await database.WriteAsync(tenantId, (connection, transaction) => Create(connection, transaction, runs), cancellationToken);
        for (var i = 0; i < items.Count; i++)
        {
            dispatcher.Dispatch(items[i], rows[i]);
        }
        return rows;
    }

    public (List<RunRow> Runs, List<WorkItem> Items) Create(DbConnection connection, DbTransaction transaction, IReadOnlyList<NewRun> runs)
    {
        const string sql = """
            INSERT INTO runs (id, tenant_id, pipeline_id, version, trigger, status, input_key, input_format, chunks_total, records_in, replay_of, created_at)
            VALUES (@Id, @TenantId, @PipelineId, @Version, @Trigger, 'queued', @InputKey, @InputFormat, @ChunksTotal, @RecordsIn, @ReplayOf, @now)
            """;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var rows = new List<RunRow>(runs.Count);
        var items = new List<WorkItem>(runs.Count);
        foreach (var run in runs)
        {
            var single = run.IsSingleChunk;
            var row = new RunRow(
                run.Id, run.TenantId, run.PipelineId, run.Version, run.Trigger, RunStatus.Queued, run.InputKey, run.InputFormat,
                single ? 1 : null, 0, single ? run.Records : null, null, null, null, run.ReplayOf, now, null, null);
            connection.Prepared(sql, transaction)
                .With("@Id", row.Id).With("@TenantId", row.TenantId).With("@PipelineId", row.PipelineId).With("@Version", row.Version)
                .With("@Trigger", row.Trigger).With("@InputKey", row.InputKey).With("@InputFormat", row.InputFormat)
                .With("@ChunksTotal", row.ChunksTotal).With("@RecordsIn", row.RecordsIn).With("@ReplayOf", row.ReplayOf).With("@now", now)
                .ExecuteNonQuery();
            if (run.InlineInput is { } input)
            {
                SmallBlobs.Save(connection, transaction, run.TenantId, run.InputKey, input);
            }
            rows.Add(row);
            FlowgateTelemetry.RunCreated(row);
            items.Add(queue.Enqueue(connection, transaction, run.TenantId, run.Id, single ? WorkKinds.Step : WorkKinds.Split, 0, 0));
        }
        return (rows, items);
    }

    /// <summary>On every run's path (waiters, workers), so prepared and mapped by hand.</summary>
    public RunRow? Find(string tenantId, string runId)
    {
        const string sql = $"SELECT {RunColumns} FROM runs WHERE tenant_id = @tenantId AND id = @runId";
        using var connection = database.OpenConnection();
        using var reader = connection.Prepared(sql, null).With("@tenantId", tenantId).With("@runId", runId).ExecuteReader();
        return reader.Read() ? ReadRun(reader) : null;
    }

    private static RunRow ReadRun(DbDataReader r) => new(
        r.GetString(0), r.GetString(1), r.GetString(2), r.GetInt64(3), r.GetString(4), r.GetString(5), r.GetString(6), r.GetString(7),
        r.GetInt64OrNull(8), r.GetInt64(9), r.GetInt64OrNull(10), r.GetInt64OrNull(11), r.GetStringOrNull(12), r.GetStringOrNull(13),
        r.GetStringOrNull(14), r.GetInt64(15), r.GetInt64OrNull(16), r.GetInt64OrNull(17));

    /// <summary>Newest first; the cursor is the id of the last run returned (ids sort by creation).</summary>
    /// <param name="createdSince">Unix milliseconds: only runs created at or after it.</param>
    public RunPage List(string tenantId, string? pipelineId, string? status, int limit, string? cursor, long? createdSince = null)
    {
        const string sql = $"""
            SELECT {RunColumns} FROM runs
            WHERE tenant_id = @tenantId
              AND (@pipelineId IS NULL OR pipeline_id = @pipelineId)
              AND (@status IS NULL OR status = @status)
              AND (@cursor IS NULL OR id < @cursor)
              AND (@createdSince IS NULL OR created_at >= @createdSince)
            ORDER BY id DESC LIMIT @take
            """;
        using var connection = database.OpenConnection();
        var runs = connection.Query<RunRow>(sql, new { tenantId, pipelineId, status, cursor, createdSince, take = limit + 1 }).AsList();
        return runs.Count > limit ? new RunPage(runs[..limit], runs[limit - 1].Id) : new RunPage(runs, null);
    }

    /// <summary>A pipeline's runs per UTC day since <paramref name="since"/> (Unix ms), for its dashboard.</summary>
    public IReadOnlyList<RunsPerDay> CountPerDay(string tenantId, string pipelineId, long since)
    {
        const string sql = """
            SELECT date(created_at / 1000, 'unixepoch') AS day, COUNT(*) AS total,
                   SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
                   SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded
            FROM runs
            WHERE tenant_id = @tenantId AND pipeline_id = @pipelineId AND created_at >= @since
            GROUP BY day ORDER BY day
            """;
        const string postgres = """
            SELECT to_char(to_timestamp(created_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, COUNT(*) AS total,
                   SUM(CASE WHEN status = 'failed' THEN 1 ELSE 0 END) AS failed,
                   SUM(CASE WHEN status = 'succeeded' THEN 1 ELSE 0 END) AS succeeded
            FROM runs
            WHERE tenant_id = @tenantId AND pipeline_id = @pipelineId AND created_at >= @since
            GROUP BY day ORDER BY day
            """;
        using var connection = database.OpenConnection();
        return connection.Query<RunsPerDay>(database.Dialect == SqlDialect.Postgres ? postgres : sql, new { tenantId, pipelineId, since }).AsList();
    }

    public IReadOnlyList<StepRunRow> StepRuns(string tenantId, string runId)
    {
        const string sql = $"""
            SELECT {StepRunColumns} FROM step_runs WHERE tenant_id = @tenantId AND run_id = @runId ORDER BY step_index, chunk
            """;
        using var connection = database.OpenConnection();
        using var r = connection.Prepared(sql, null).With("@tenantId", tenantId).With("@runId", runId).ExecuteReader();
        var rows = new List<StepRunRow>();
        while (r.Read())
        {
            rows.Add(new StepRunRow(
                r.GetString(0), r.GetInt64(1), r.GetInt64(2), r.GetString(3), r.GetString(4), r.GetInt64(5), r.GetInt64OrNull(6), r.GetInt64OrNull(7),
                r.GetDoubleOrNull(8), r.GetStringOrNull(9), r.GetStringOrNull(10), r.GetInt64OrNull(11), r.GetInt64OrNull(12)));
        }
        return rows;
    }

    public IReadOnlyList<DeadLetterRow> DeadLetters(string tenantId, string runId)
    {
        const string sql = """
            SELECT id, run_id, kind, step_index, chunk, attempts, reason, created_at FROM dead_letters
            WHERE tenant_id = @tenantId AND run_id = @runId ORDER BY id
            """;
        using var connection = database.OpenConnection();
        return connection.Query<DeadLetterRow>(sql, new { tenantId, runId }).AsList();
    }

    /// <returns>The run after cancelling, or null if the tenant has no such run.</returns>
    public async Task<RunRow?> CancelAsync(string tenantId, string runId, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = $"""
                UPDATE runs SET status = 'cancelled', finished_at = @now, error = 'cancelled by request'
                WHERE tenant_id = @tenantId AND id = @runId AND status IN ('queued', 'running')
                """;
            if (connection.Execute(sql, new { tenantId, runId, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction) == 1)
            {
                queue.RemoveAll(connection, transaction, tenantId, runId);
            }
            const string select = $"SELECT {RunColumns} FROM runs WHERE tenant_id = @tenantId AND id = @runId";
            return connection.QuerySingleOrDefault<RunRow>(select, new { tenantId, runId }, transaction);
        }, cancellationToken);
}
