using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Records;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Runs;

/// <summary>
/// Executes one work item and commits its effects in one transaction: the step run, its usage event,
/// the next work item (or the end of the run) and the removal of this item. Step code may run more
/// than once (after a crash or a lost lease); its effects in the database happen exactly once,
/// because the commit re-checks that the step is not already done.
/// </summary>
public sealed partial class RunExecutor(
    Database database,
    IBlobStore blobs,
    PipelineStore pipelines,
    WorkQueue queue,
    WorkDispatcher dispatcher,
    RunSignals signals,
    TimeProvider time,
    IOptions<FlowgateOptions> options,
    ILogger<RunExecutor> logger)
{
    private const string RunColumns = """
        id, tenant_id, pipeline_id, version, trigger, status, input_key, input_format, chunks_total, chunks_done,
        records_in, records_out, output_key, error, replay_of, created_at, started_at, finished_at
        """;

    /// <summary>Executes the item, commits, and dispatches the work it made necessary to this node.</summary>
    public async Task ExecuteAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var next = await ExecuteAndCommitAsync(item, cancellationToken);
        dispatcher.Dispatch(next);
    }

    /// <returns>The work items the commit created, leased to this node.</returns>
    public async Task<IReadOnlyList<WorkItem>> ExecuteAndCommitAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var run = FindRun(item);
        if (run is null || RunStatus.IsFinished(run.Status) || IsCommitted(item))
        {
            await database.WriteAsync((connection, transaction) => queue.Complete(connection, transaction, item), cancellationToken);
            return [];
        }
        var pipeline = pipelines.GetCompiled(run.TenantId, run.PipelineId, run.Version);
        var started = time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(pipeline.Definition.Settings.StepTimeoutSeconds));
        using var lease = KeepLeaseAlive(item, deadline.Token);
        try
        {
            var outcome = item.Kind switch
            {
                WorkKinds.Split => await SplitAsync(item, run, pipeline, deadline.Token),
                WorkKinds.Step => await StepAsync(item, run, pipeline, started, stopwatch, deadline.Token),
                WorkKinds.Sink => await SinkAsync(item, run, pipeline, deadline.Token),
                _ => throw new InvalidOperationException($"unknown work kind '{item.Kind}'"),
            };
            if (outcome.RunFinished)
            {
                signals.Finished(run.Id);
            }
            return outcome.Next;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (Exception error)
        {
            var timedOut = error is OperationCanceledException && deadline.IsCancellationRequested;
            var message = timedOut
                ? $"timed out after {pipeline.Definition.Settings.StepTimeoutSeconds} s (settings.stepTimeoutSeconds)"
                : error.Message;
            await FailOrRetryAsync(item, run, pipeline, error, message, started, stopwatch.Elapsed, cancellationToken);
            return [];
        }
    }

    private async Task<Outcome> SplitAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, CancellationToken cancellationToken)
    {
        var trigger = pipeline.Definition.Trigger;
        var format = run.InputFormat switch { "csv" => InputFormat.Csv, "json" => InputFormat.Json, _ => InputFormat.Jsonl };
        var published = new List<Task<WorkItem>>();
        void Publish(int chunk)
        {
            var commit = database.WriteAsync((connection, transaction) =>
                queue.Enqueue(connection, transaction, run.TenantId, run.Id, WorkKinds.Step, 0, chunk), cancellationToken);
            published.Add(commit.ContinueWith(t => { dispatcher.Dispatch(t.Result); return t.Result; }, cancellationToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default));
        }

        SplitResult split;
        await using (var input = await blobs.OpenReadAsync(run.InputKey, cancellationToken))
        {
            split = await InputSplitter.SplitAsync(input, format, trigger.Delimiter, pipeline.Definition.Settings.ChunkSize, async (chunk, ct) =>
            {
                if (chunk > 0)
                {
                    Publish(chunk - 1);
                }
                return await blobs.OpenWriteAsync(BlobKeys.ChunkInput(run.TenantId, run.Id, chunk), ct);
            }, cancellationToken);
        }
        Publish(split.Chunks - 1);
        await Task.WhenAll(published);

        return await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                UPDATE runs SET status = 'running', chunks_total = @Chunks, records_in = @Records, started_at = COALESCE(started_at, @now)
                WHERE tenant_id = @TenantId AND id = @Id AND status IN ('queued', 'running')
                RETURNING chunks_done
                """;
            var done = connection.QuerySingleOrDefault<long?>(sql, new { split.Chunks, split.Records, now = Now, run.TenantId, run.Id }, transaction);
            queue.Complete(connection, transaction, item);
            var next = new List<WorkItem>();
            if (done == split.Chunks)
            {
                next.Add(queue.Enqueue(connection, transaction, run.TenantId, run.Id, WorkKinds.Sink, 0, 0));
            }
            return new Outcome(next, false);
        }, cancellationToken);
    }

    private async Task<Outcome> StepAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, DateTimeOffset started, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var step = pipeline.Steps[(int)item.StepIndex];
        var inputKey = item.StepIndex == 0
            ? BlobKeys.ChunkInput(run.TenantId, run.Id, item.Chunk)
            : BlobKeys.StepOutput(run.TenantId, run.Id, item.Chunk, item.StepIndex - 1);
        var outputKey = BlobKeys.StepOutput(run.TenantId, run.Id, item.Chunk, item.StepIndex);
        long recordsIn = 0, recordsOut;
        await using (var input = await blobs.OpenReadAsync(inputKey, cancellationToken))
        await using (var output = await blobs.OpenWriteAsync(outputKey, cancellationToken))
        {
            var records = item.StepIndex == 0 && run.InputFormat == "csv"
                ? ChunkReader.ReadCsvAsync(input, pipeline.Definition.Trigger.Delimiter, cancellationToken)
                : ChunkReader.ReadJsonlAsync(input, cancellationToken);
            await using var writer = new JsonlRecordWriter(output);
            await foreach (var record in step.Step.ExecuteAsync(Count(records, () => recordsIn++), cancellationToken))
            {
                await writer.WriteAsync(record, cancellationToken);
            }
            await writer.DisposeAsync();
            recordsOut = writer.Count;
        }
        var duration = stopwatch.Elapsed;
        var isLast = item.StepIndex == pipeline.Steps.Count - 1;
        var sinkIsThisOutput = pipeline.Definition.Sink.Format == SinkFormat.Jsonl && run.ChunksTotal == 1;

        return await database.WriteAsync((connection, transaction) =>
        {
            if (IsCommitted(connection, transaction, item) || !IsActive(connection, transaction, run))
            {
                queue.Complete(connection, transaction, item);
                return new Outcome([], false);
            }
            var now = Now;
            SaveStepRun(connection, transaction, run, item, step.Id, StepStatus.Succeeded, recordsIn, recordsOut, duration, null, null, started, now);
            UsageLedger.Append(connection, transaction, new UsageEvent(run.TenantId, Meters.StepExecutions, 1, $"{run.Id}/{step.Id}/{item.Chunk}", run.PipelineId, run.Id, now));
            queue.Complete(connection, transaction, item);
            if (!isLast)
            {
                const string markRunning = """
                    UPDATE runs SET status = 'running', started_at = COALESCE(started_at, @now)
                    WHERE tenant_id = @TenantId AND id = @Id AND status = 'queued'
                    """;
                connection.Execute(markRunning, new { now, run.TenantId, run.Id }, transaction);
                return new Outcome([queue.Enqueue(connection, transaction, run.TenantId, run.Id, WorkKinds.Step, item.StepIndex + 1, item.Chunk)], false);
            }
            if (sinkIsThisOutput)
            {
                FinishRun(connection, transaction, run, RunStatus.Succeeded, recordsOut, outputKey, null, now);
                return new Outcome([], true);
            }
            const string chunkDone = """
                UPDATE runs SET status = 'running', started_at = COALESCE(started_at, @now), chunks_done = chunks_done + 1
                WHERE tenant_id = @TenantId AND id = @Id
                RETURNING chunks_done, chunks_total
                """;
            var (done, total) = connection.QuerySingle<(long, long?)>(chunkDone, new { now, run.TenantId, run.Id }, transaction);
            return done == total
                ? new Outcome([queue.Enqueue(connection, transaction, run.TenantId, run.Id, WorkKinds.Sink, 0, 0)], false)
                : new Outcome([], false);
        }, cancellationToken);
    }

    private async Task<Outcome> SinkAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, CancellationToken cancellationToken)
    {
        var sink = pipeline.Definition.Sink;
        var lastStep = pipeline.Steps.Count - 1;
        var extension = sink.Format.ToString().ToLowerInvariant();
        var outputKey = BlobKeys.RunOutput(run.TenantId, run.Id, extension);
        var chunks = Enumerable.Range(0, (int)run.ChunksTotal!.Value)
            .Select(chunk => (Func<CancellationToken, Task<Stream>>)(ct => blobs.OpenReadAsync(BlobKeys.StepOutput(run.TenantId, run.Id, chunk, lastStep), ct)))
            .ToList();
        long records;
        await using (var output = await blobs.OpenWriteAsync(outputKey, cancellationToken))
        {
            records = await SinkWriter.WriteAsync(chunks, sink.Format, sink.Delimiter, output, cancellationToken);
        }
        return await database.WriteAsync((connection, transaction) =>
        {
            queue.Complete(connection, transaction, item);
            if (!IsActive(connection, transaction, run))
            {
                return new Outcome([], false);
            }
            FinishRun(connection, transaction, run, RunStatus.Succeeded, records, outputKey, null, Now);
            return new Outcome([], true);
        }, cancellationToken);
    }

    private async Task FailOrRetryAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, Exception error, string message, DateTimeOffset started, TimeSpan duration, CancellationToken cancellationToken)
    {
        var maxAttempts = pipeline.Definition.Settings.MaxAttempts;
        var permanent = error is RecordException;
        var stepId = item.Kind == WorkKinds.Step ? pipeline.Steps[(int)item.StepIndex].Id : null;
        var where = stepId is not null ? $"step '{stepId}'" + (run.ChunksTotal > 1 ? $" (chunk {item.Chunk})" : "") : item.Kind == WorkKinds.Split ? "input" : "sink";
        var errorRecord = (error as RecordFailedException)?.RecordJson;
        var finished = false;
        if (permanent || item.Attempt >= maxAttempts)
        {
            var reason = permanent
                ? $"{where}: {message}"
                : $"{where}: failed after {item.Attempt} attempts: {message}";
            LogRunFailed(logger, run.Id, reason, error);
            finished = await database.WriteAsync((connection, transaction) =>
            {
                if (IsCommitted(connection, transaction, item) || !IsActive(connection, transaction, run))
                {
                    queue.Complete(connection, transaction, item);
                    return false;
                }
                var now = Now;
                if (stepId is not null)
                {
                    SaveStepRun(connection, transaction, run, item, stepId, StepStatus.Failed, null, null, duration, message, errorRecord, started, now);
                }
                const string deadLetter = """
                    INSERT INTO dead_letters (tenant_id, run_id, kind, step_index, chunk, attempts, reason, created_at)
                    VALUES (@TenantId, @RunId, @Kind, @StepIndex, @Chunk, @Attempt, @reason, @now)
                    """;
                connection.Execute(deadLetter, new { item.TenantId, item.RunId, item.Kind, item.StepIndex, item.Chunk, item.Attempt, reason, now }, transaction);
                queue.RemoveAll(connection, transaction, run.TenantId, run.Id);
                FinishRun(connection, transaction, run, RunStatus.Failed, null, null, reason, now);
                return true;
            }, cancellationToken);
        }
        else
        {
            var delay = Backoff(item.Attempt);
            LogRetry(logger, item.Describe(), item.Attempt, delay.TotalMilliseconds, error);
            await database.WriteAsync((connection, transaction) =>
            {
                if (stepId is not null)
                {
                    SaveStepRun(connection, transaction, run, item, stepId, StepStatus.Retrying, null, null, duration, $"attempt {item.Attempt} failed: {message}", errorRecord, started, null);
                }
                queue.Retry(connection, transaction, item, time.GetUtcNow() + delay, message);
            }, cancellationToken);
        }
        if (finished)
        {
            signals.Finished(run.Id);
        }
    }

    /// <summary>Exponential backoff with full jitter on the upper half: base · 2^(attempt-1) · [0.5, 1).</summary>
    private TimeSpan Backoff(long attempt)
    {
        var baseDelay = options.Value.Runtime.RetryBaseDelayMilliseconds;
        var ceiling = Math.Min(baseDelay * Math.Pow(2, attempt - 1), 5 * 60_000);
        return TimeSpan.FromMilliseconds(ceiling * (0.5 + Random.Shared.NextDouble() / 2));
    }

    private IDisposable KeepLeaseAlive(WorkItem item, CancellationToken cancellationToken)
    {
        var period = TimeSpan.FromSeconds(Math.Max(1, options.Value.Runtime.LeaseSeconds / 3.0));
        return new Timer(_ =>
        {
            if (!cancellationToken.IsCancellationRequested)
            {
                _ = queue.ExtendLeaseAsync(item, cancellationToken).ContinueWith(_ => { }, TaskScheduler.Default);
            }
        }, null, period, period);
    }

    private static async IAsyncEnumerable<Record> Count(IAsyncEnumerable<Record> records, Action counted)
    {
        await foreach (var record in records)
        {
            counted();
            yield return record;
        }
    }

    private RunRow? FindRun(WorkItem item)
    {
        const string sql = $"SELECT {RunColumns} FROM runs WHERE tenant_id = @TenantId AND id = @RunId";
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<RunRow>(sql, new { item.TenantId, item.RunId });
    }

    private bool IsCommitted(WorkItem item)
    {
        if (item.Kind != WorkKinds.Step)
        {
            return false;
        }
        using var connection = database.OpenConnection();
        return IsCommitted(connection, null, item);
    }

    private static bool IsCommitted(SqliteConnection connection, SqliteTransaction? transaction, WorkItem item)
    {
        if (item.Kind != WorkKinds.Step)
        {
            return false;
        }
        const string sql = """
            SELECT 1 FROM step_runs
            WHERE run_id = @RunId AND step_index = @StepIndex AND chunk = @Chunk AND tenant_id = @TenantId AND status = 'succeeded'
            """;
        return connection.ExecuteScalar<long?>(sql, new { item.RunId, item.StepIndex, item.Chunk, item.TenantId }, transaction) is not null;
    }

    private static bool IsActive(SqliteConnection connection, SqliteTransaction transaction, RunRow run)
    {
        const string sql = "SELECT status FROM runs WHERE tenant_id = @TenantId AND id = @Id";
        var status = connection.ExecuteScalar<string?>(sql, new { run.TenantId, run.Id }, transaction);
        return status is RunStatus.Queued or RunStatus.Running;
    }

    private static void SaveStepRun(SqliteConnection connection, SqliteTransaction transaction, RunRow run, WorkItem item, string stepId, string status,
        long? recordsIn, long? recordsOut, TimeSpan duration, string? error, string? errorRecord, DateTimeOffset started, long? finishedAt)
    {
        const string sql = """
            INSERT INTO step_runs (run_id, step_index, chunk, tenant_id, step_id, status, attempts, records_in, records_out, duration_ms, error, error_record, started_at, finished_at)
            VALUES (@RunId, @StepIndex, @Chunk, @TenantId, @stepId, @status, @Attempt, @recordsIn, @recordsOut, @durationMs, @error, @errorRecord, @startedAt, @finishedAt)
            ON CONFLICT (run_id, step_index, chunk) DO UPDATE SET
              status = excluded.status, attempts = excluded.attempts, records_in = excluded.records_in, records_out = excluded.records_out,
              duration_ms = excluded.duration_ms, error = excluded.error, error_record = excluded.error_record,
              started_at = COALESCE(step_runs.started_at, excluded.started_at), finished_at = excluded.finished_at
            """;
        connection.Execute(sql, new
        {
            RunId = run.Id, item.StepIndex, item.Chunk, run.TenantId, stepId, status, item.Attempt, recordsIn, recordsOut,
            durationMs = duration.TotalMilliseconds, error, errorRecord, startedAt = started.ToUnixTimeMilliseconds(), finishedAt,
        }, transaction);
    }

    private static void FinishRun(SqliteConnection connection, SqliteTransaction transaction, RunRow run, string status, long? recordsOut, string? outputKey, string? error, long now)
    {
        const string sql = """
            UPDATE runs SET status = @status, records_out = COALESCE(@recordsOut, records_out), output_key = @outputKey, error = @error,
                started_at = COALESCE(started_at, @now), finished_at = @now
            WHERE tenant_id = @TenantId AND id = @Id AND status IN ('queued', 'running')
            """;
        connection.Execute(sql, new { status, recordsOut, outputKey, error, now, run.TenantId, run.Id }, transaction);
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    private sealed record Outcome(IReadOnlyList<WorkItem> Next, bool RunFinished);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} failed: {Reason}")]
    private static partial void LogRunFailed(ILogger logger, string runId, string reason, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrying {Work} after attempt {Attempt} in {DelayMs:F0} ms")]
    private static partial void LogRetry(ILogger logger, string work, long attempt, double delayMs, Exception error);
}
