using System.Diagnostics;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Records;
using Saas.Pipelines.Sinks;
using Saas.Pipelines.Steps;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Telemetry;

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
    SmallBlobs smallBlobs,
    PipelineStore pipelines,
    WorkQueue queue,
    LeaseKeeper leases,
    WorkDispatcher dispatcher,
    RunSignals signals,
    RunStore runs,
    Billing.SpendingGuard spending,
    TimeProvider time,
    IServiceProvider services,
    IOptions<FlowgateOptions> options,
    ILogger<RunExecutor> logger)
{
    /// <summary>
    /// Executes the item and commits. The next step of the same chunk continues on this worker at
    /// once (its item is already leased here); any other work it made necessary is dispatched.
    /// </summary>
    /// <param name="createdRun">The run, when the item is the first of a run just created (nothing of it can be committed yet).</param>
    public async Task ExecuteAsync(WorkItem item, RunRow? createdRun, CancellationToken cancellationToken)
    {
        var run = createdRun;
        ReadOnlyMemory<byte>? input = null;
        while (true)
        {
            var outcome = await ExecuteAndCommitAsync(item, run, input, cancellationToken);
            var follow = outcome.Next.FirstOrDefault(n => n.Kind == WorkKinds.Step && n.RunId == item.RunId && n.Chunk == item.Chunk);
            dispatcher.Dispatch(outcome.Next.Where(n => !ReferenceEquals(n, follow)));
            if (follow is null || outcome.Run is null)
            {
                return;
            }
            (item, run, input) = (follow, outcome.Run, outcome.Output);
        }
    }

    /// <returns>The work items the commit created, leased to this node.</returns>
    public async Task<IReadOnlyList<WorkItem>> ExecuteAndCommitAsync(WorkItem item, CancellationToken cancellationToken) =>
        (await ExecuteAndCommitAsync(item, null, null, cancellationToken)).Next;

    /// <param name="chainedFrom">The run as the previous step of this chunk left it, when continuing on the same worker.</param>
    /// <param name="chainedInput">That step's output, when it was small enough to keep in memory.</param>
    private async Task<Outcome> ExecuteAndCommitAsync(WorkItem item, RunRow? chainedFrom, ReadOnlyMemory<byte>? chainedInput, CancellationToken cancellationToken)
    {
        var run = chainedFrom ?? runs.Find(item.TenantId, item.RunId);
        if (run is null || RunStatus.IsFinished(run.Status) || (chainedFrom is null && IsCommitted(item)))
        {
            await database.WriteAsync(item.TenantId, (connection, transaction) => queue.Complete(connection, transaction, item), cancellationToken);
            return Outcome.Nothing;
        }
        var pipeline = pipelines.GetCompiled(run.TenantId, run.PipelineId, run.Version);
        var started = time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(TimeSpan.FromSeconds(pipeline.Definition.Settings.StepTimeoutSeconds));
        using var lease = leases.Keep(item, deadline.Token);
        try
        {
            var outcome = item.Kind switch
            {
                WorkKinds.Split => await TracedAsync(item, run, () => SplitAsync(item, run, pipeline, deadline.Token)),
                WorkKinds.Step => await StepAsync(item, run, pipeline, chainedInput, stopwatch, deadline.Token),
                WorkKinds.Sink => await TracedAsync(item, run, () => SinkAsync(item, run, pipeline, deadline.Token)),
                _ => throw new InvalidOperationException($"unknown work kind '{item.Kind}'"),
            };
            if (outcome.RunFinished)
            {
                signals.Finished(run.Id);
            }
            return outcome;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw;
        }
        catch (ChainedStepFailure failure)
        {
            if (failure.Item is null)
            {
                return Outcome.Nothing;
            }
            await FailOrRetryAsync(failure.Item, run, pipeline, failure.InnerException!, failure.Message, started, stopwatch.Elapsed, cancellationToken);
            return Outcome.Nothing;
        }
        catch (Exception error)
        {
            var timedOut = error is OperationCanceledException && deadline.IsCancellationRequested;
            var message = timedOut
                ? $"timed out after {pipeline.Definition.Settings.StepTimeoutSeconds} s (settings.stepTimeoutSeconds)"
                : error.Message;
            await FailOrRetryAsync(item, run, pipeline, error, message, started, stopwatch.Elapsed, cancellationToken);
            return Outcome.Nothing;
        }
    }

    private async Task<Outcome> SplitAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, CancellationToken cancellationToken)
    {
        var trigger = pipeline.Definition.Trigger;
        var format = InputFormatNames.Parse(run.InputFormat);
        var published = new List<Task<WorkItem>>();
        void Publish(int chunk)
        {
            var commit = database.WriteAsync(run.TenantId, (connection, transaction) =>
                queue.Enqueue(connection, transaction, run.TenantId, run.Id, WorkKinds.Step, 0, chunk), cancellationToken);
            published.Add(commit.ContinueWith(t => { dispatcher.Dispatch(t.Result); return t.Result; }, cancellationToken, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default));
        }

        SplitResult split;
        await using (var input = await smallBlobs.OpenReadAsync(run.TenantId, run.InputKey, cancellationToken))
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

        return await database.WriteAsync(run.TenantId, (connection, transaction) =>
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
            return new Outcome(next, false, null);
        }, cancellationToken);
    }

    private async Task<Outcome> StepAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, ReadOnlyMemory<byte>? chainedInput, Stopwatch stopwatch, CancellationToken cancellationToken)
    {
        var executed = new List<ExecutedStep>();
        var input = chainedInput;
        for (var index = item.StepIndex; ; index++)
        {
            ExecutedStep step;
            try
            {
                step = await TracedStepAsync(item, run, pipeline, index, input, cancellationToken);
            }
            catch (Exception error) when (executed.Count > 0 && error is not OperationCanceledException)
            {
                var outcome = await CommitStepsAsync(item, run, pipeline, executed, cancellationToken);
                throw new ChainedStepFailure(outcome.Next.SingleOrDefault(n => n.Kind == WorkKinds.Step && n.StepIndex == index), error);
            }
            executed.Add(step);
            var isLast = index == pipeline.Steps.Count - 1;
            if (isLast || step.Inline is null || stopwatch.Elapsed.TotalMilliseconds > options.Value.Runtime.UncommittedChainMilliseconds)
            {
                return await CommitStepsAsync(item, run, pipeline, executed, cancellationToken);
            }
            input = step.Inline;
        }
    }

    private async Task<ExecutedStep> ExecuteStepAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, long index, ReadOnlyMemory<byte>? chainedInput, CancellationToken cancellationToken)
    {
        var step = pipeline.Steps[(int)index];
        var started = time.GetUtcNow();
        var stopwatch = Stopwatch.StartNew();
        var inputKey = index == 0
            ? BlobKeys.ChunkInput(run.TenantId, run.Id, item.Chunk)
            : BlobKeys.StepOutput(run.TenantId, run.Id, item.Chunk, index - 1);
        var outputKey = BlobKeys.StepOutput(run.TenantId, run.Id, item.Chunk, index);
        long recordsIn = 0, recordsOut;
        var output = smallBlobs.OpenWrite(outputKey);
        var context = new StepContext(run.TenantId, run.PipelineId, run.Id, step.Id, item.Chunk, services);
        await using (var input = chainedInput is { } bytes ? new ReadOnlyMemoryStream(bytes) : await smallBlobs.OpenReadAsync(run.TenantId, inputKey, cancellationToken))
        {
            var records = index == 0 && InputFormatNames.Parse(run.InputFormat) == InputFormat.Csv
                ? ChunkReader.ReadCsvAsync(input, pipeline.Definition.Trigger.Delimiter, cancellationToken)
                : ChunkReader.ReadJsonlAsync(input, cancellationToken);
            await using var writer = new JsonlRecordWriter(output, options.Value.Runtime.MaxRecordBytes);
            await foreach (var record in step.Step.ExecuteAsync(Count(records, () => recordsIn++), context, cancellationToken))
            {
                await writer.WriteAsync(record, cancellationToken);
            }
            await writer.DisposeAsync();
            recordsOut = writer.Count;
        }
        await output.CompleteAsync();
        return new ExecutedStep(step, index, recordsIn, recordsOut, started, stopwatch.Elapsed, outputKey, output.Inline, context.Usage);
    }

    /// <summary>
    /// Commits executed steps of one chunk: their step runs, usage events and inline outputs, then
    /// moves the work item on past them, or ends the chunk (and the run, or enqueues its sink).
    /// </summary>
    private async Task<Outcome> CommitStepsAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, List<ExecutedStep> executed, CancellationToken cancellationToken)
    {
        var last = executed[^1];
        var chunkDone = last.Index == pipeline.Steps.Count - 1;
        var sink = pipeline.Definition.Sink;
        var sinkIsLastOutput = sink is { Type: SinkTypes.Blob, Path: null, Format: SinkFormat.Jsonl } && run.ChunksTotal == 1;
        var committed = false;
        var outcome = await database.WriteAsync(run.TenantId, (connection, transaction) =>
        {
            committed = false;
            if (!CanCommit(connection, transaction, item))
            {
                queue.Complete(connection, transaction, item);
                return Outcome.Nothing;
            }
            committed = true;
            var now = Now;
            foreach (var step in executed)
            {
                if (step.Inline is { } data)
                {
                    SmallBlobs.Save(connection, transaction, run.TenantId, step.OutputKey, data);
                }
                SaveStepRun(connection, transaction, run, item with { StepIndex = step.Index }, step.Step.Id, StepStatus.Succeeded, step.RecordsIn, step.RecordsOut, step.Duration, null, null, step.Started, now);
                var key = $"{run.Id}/{step.Step.Id}/{item.Chunk}";
                UsageLedger.Append(connection, transaction, new UsageEvent(run.TenantId, Meters.StepExecutions, 1, key, run.PipelineId, run.Id, now));
                foreach (var (meter, model, quantity) in step.Usage.Totals)
                {
                    UsageLedger.Append(connection, transaction, new UsageEvent(run.TenantId, meter, quantity, model is null ? key : $"{key}/{model}", run.PipelineId, run.Id, now) { Model = model });
                }
            }
            if (item.StepIndex == 0)
            {
                const string markRunning = """
                    UPDATE runs SET status = 'running', started_at = COALESCE(started_at, @now)
                    WHERE tenant_id = @TenantId AND id = @Id AND status = 'queued'
                    """;
                connection.Prepared(markRunning, transaction).With("@now", now).With("@TenantId", run.TenantId).With("@Id", run.Id).ExecuteNonQuery();
            }
            if (!chunkDone)
            {
                return new Outcome([queue.Advance(connection, transaction, item, last.Index + 1)], false, run, last.Inline);
            }
            queue.Complete(connection, transaction, item);
            if (sinkIsLastOutput)
            {
                FinishRun(connection, transaction, run, RunStatus.Succeeded, last.RecordsOut, last.OutputKey, null, now);
                return new Outcome([], true, null);
            }
            const string countChunk = """
                UPDATE runs SET chunks_done = chunks_done + 1
                WHERE tenant_id = @TenantId AND id = @Id
                RETURNING chunks_done = chunks_total
                """;
            var allDone = connection.Prepared(countChunk, transaction).With("@TenantId", run.TenantId).With("@Id", run.Id).ScalarInt64() == 1;
            return allDone
                ? new Outcome([queue.Enqueue(connection, transaction, run.TenantId, run.Id, WorkKinds.Sink, 0, 0)], false, null)
                : Outcome.Nothing;
        }, cancellationToken);
        if (committed)
        {
            spending.Committed(run.TenantId, run.Id, executed.SelectMany(step =>
                step.Usage.Totals.Select(u => new UsageQuantity(u.Meter, u.Model, u.Quantity)).Prepend(new UsageQuantity(Meters.StepExecutions, null, 1))));
        }
        return outcome;
    }

    private sealed record ExecutedStep(
        CompiledStep Step, long Index, long RecordsIn, long RecordsOut, DateTimeOffset Started, TimeSpan Duration, string OutputKey, ReadOnlyMemory<byte>? Inline, StepUsage Usage);

    /// <summary>A step failed after earlier steps of its chain were committed; <see cref="Item"/> now points at it.</summary>
    private sealed class ChainedStepFailure(WorkItem? item, Exception inner) : Exception(inner.Message, inner)
    {
        public WorkItem? Item { get; } = item;
    }

    private async Task<Outcome> SinkAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, CancellationToken cancellationToken)
    {
        var sink = pipeline.Definition.Sink;
        var lastStep = pipeline.Steps.Count - 1;
        var extension = sink.Format.ToString().ToLowerInvariant();
        var outputKey = sink.Path is { } path
            ? ExportPath.Key(run.TenantId, ExportPath.Render(path, run.Id, DateTimeOffset.FromUnixTimeMilliseconds(run.CreatedAt), run.PipelineId, run.Version))
            : BlobKeys.RunOutput(run.TenantId, run.Id, extension);
        var chunks = Enumerable.Range(0, (int)run.ChunksTotal!.Value)
            .Select(chunk => (Func<CancellationToken, Task<Stream>>)(ct => smallBlobs.OpenReadAsync(run.TenantId, BlobKeys.StepOutput(run.TenantId, run.Id, chunk, lastStep), ct)))
            .ToList();
        var output = smallBlobs.OpenWrite(outputKey);
        var records = await SinkWriter.WriteAsync(chunks, sink.Format, sink.Delimiter, output, cancellationToken);
        await output.CompleteAsync();
        var delivery = sink.Type == SinkTypes.Blob ? null : services.GetRequiredService<SinkDelivery>();
        var inCommit = delivery is null ? null
            : await delivery.DeliverAsync(run, sink, async ct => output.Inline is { } bytes ? new ReadOnlyMemoryStream(bytes) : await smallBlobs.OpenReadAsync(run.TenantId, outputKey, ct), cancellationToken);
        var outcome = await database.WriteAsync(run.TenantId, (connection, transaction) =>
        {
            if (output.Inline is { } data)
            {
                SmallBlobs.Save(connection, transaction, run.TenantId, outputKey, data);
            }
            queue.Complete(connection, transaction, item);
            if (!CanCommit(connection, transaction, item))
            {
                return Outcome.Nothing;
            }
            inCommit?.Invoke(connection, transaction);
            FinishRun(connection, transaction, run, RunStatus.Succeeded, records, outputKey, null, Now);
            return new Outcome([], true, null);
        }, cancellationToken);
        delivery?.Committed(sink);
        return outcome;
    }

    private async Task FailOrRetryAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, Exception error, string message, DateTimeOffset started, TimeSpan duration, CancellationToken cancellationToken)
    {
        var maxAttempts = pipeline.Definition.Settings.MaxAttempts;
        var permanent = error is RecordException;
        var stepId = item.Kind == WorkKinds.Step ? pipeline.Steps[(int)item.StepIndex].Id : null;
        var where = stepId is not null ? $"step '{stepId}'" + (run.ChunksTotal > 1 ? $" (chunk {item.Chunk})" : "") : item.Kind == WorkKinds.Split ? "input" : "sink";
        var errorRecord = (error as RecordFailedException)?.RecordJson;
        var finished = false;
        FlowgateTelemetry.FailureRecorded(item.Kind, permanent || item.Attempt >= maxAttempts);
        if (permanent || item.Attempt >= maxAttempts)
        {
            var reason = permanent
                ? $"{where}: {message}"
                : $"{where}: failed after {item.Attempt} attempts: {message}";
            LogRunFailed(logger, run.Id, reason, error);
            finished = await database.WriteAsync(run.TenantId, (connection, transaction) =>
            {
                if (!CanCommit(connection, transaction, item))
                {
                    queue.Complete(connection, transaction, item);
                    return false;
                }
                var now = Now;
                if (stepId is not null)
                {
                    SaveStepRun(connection, transaction, run, item, stepId, StepStatus.Failed, null, null, duration, message, errorRecord, started, now);
                }
                FailRun(connection, transaction, run, item, reason, now);
                return true;
            }, cancellationToken);
        }
        else
        {
            var delay = Backoff(item.Attempt);
            LogRetry(logger, item.Describe(), item.Attempt, delay.TotalMilliseconds, error);
            await database.WriteAsync(run.TenantId, (connection, transaction) =>
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

    private static async IAsyncEnumerable<Record> Count(IAsyncEnumerable<Record> records, Action counted)
    {
        await foreach (var record in records)
        {
            counted();
            yield return record;
        }
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

    private static bool IsCommitted(DbConnection connection, DbTransaction? transaction, WorkItem item)
    {
        const string sql = """
            SELECT 1 FROM step_runs
            WHERE run_id = @RunId AND step_index = @StepIndex AND chunk = @Chunk AND tenant_id = @TenantId AND status = 'succeeded'
            """;
        return connection.Prepared(sql, transaction)
            .With("@RunId", item.RunId).With("@StepIndex", item.StepIndex).With("@Chunk", item.Chunk).With("@TenantId", item.TenantId)
            .ScalarInt64() is not null;
    }

    /// <summary>Inside the commit: the run is still going and, for a step, this chunk's step is not already done.</summary>
    private static bool CanCommit(DbConnection connection, DbTransaction transaction, WorkItem item)
    {
        const string sql = """
            SELECT status IN ('queued', 'running')
                AND (@Kind <> 'step' OR NOT EXISTS (
                    SELECT 1 FROM step_runs
                    WHERE run_id = @RunId AND step_index = @StepIndex AND chunk = @Chunk AND status = 'succeeded'))
            FROM runs WHERE tenant_id = @TenantId AND id = @RunId
            """;
        return connection.Prepared(sql, transaction)
            .With("@Kind", item.Kind).With("@RunId", item.RunId).With("@StepIndex", item.StepIndex).With("@Chunk", item.Chunk).With("@TenantId", item.TenantId)
            .ScalarInt64() == 1;
    }

    private static void SaveStepRun(DbConnection connection, DbTransaction transaction, RunRow run, WorkItem item, string stepId, string status,
        long? recordsIn, long? recordsOut, TimeSpan duration, string? error, string? errorRecord, DateTimeOffset started, long? finishedAt)
    {
        const string sql = """
            INSERT INTO step_runs (run_id, step_index, chunk, tenant_id, step_id, status, attempts, records_in, records_out, duration_ms, error, error_record, started_at, finished_at)
            VALUES (@RunId, @StepIndex, @Chunk, @TenantId, @stepId, @status, @Attempt, @recordsIn, @recordsOut, @durationMs, @error, @errorRecord, @startedAt, @finishedAt)
            ON CONFLICT (run_id, step_index, chunk) DO UPDATE SET
              status = excluded.status, attempts = excluded.attempts, records_in = excluded.records_in, records_out = excluded.records_out,
              duration_ms = excluded.duration_ms, error = excluded.error, error_record = excluded.error_record,
              started_at = COALESCE(step_runs.started_at, excluded.started_at), finished_at = excluded.finished_at
            WHERE step_runs.status <> 'succeeded'
            """;
        connection.Prepared(sql, transaction)
            .With("@RunId", run.Id).With("@StepIndex", item.StepIndex).With("@Chunk", item.Chunk).With("@TenantId", run.TenantId)
            .With("@stepId", stepId).With("@status", status).With("@Attempt", item.Attempt).With("@recordsIn", recordsIn).With("@recordsOut", recordsOut)
            .With("@durationMs", duration.TotalMilliseconds).With("@error", error).With("@errorRecord", errorRecord)
            .With("@startedAt", started.ToUnixTimeMilliseconds()).With("@finishedAt", finishedAt)
            .ExecuteNonQuery();
    }

    private static void FinishRun(DbConnection connection, DbTransaction transaction, RunRow run, string status, long? recordsOut, string? outputKey, string? error, long now)
    {
        FlowgateTelemetry.RunFinished(status);
        const string sql = """
            UPDATE runs SET status = @status, records_out = COALESCE(@recordsOut, records_out), output_key = @outputKey, error = @error,
                chunks_done = CASE WHEN @status = 'succeeded' THEN COALESCE(chunks_total, chunks_done) ELSE chunks_done END,
                started_at = COALESCE(started_at, @now), finished_at = @now
            WHERE tenant_id = @TenantId AND id = @Id AND status IN ('queued', 'running')
            """;
        connection.Prepared(sql, transaction)
            .With("@status", status).With("@recordsOut", recordsOut).With("@outputKey", outputKey).With("@error", error).With("@now", now)
            .With("@TenantId", run.TenantId).With("@Id", run.Id)
            .ExecuteNonQuery();
    }

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    /// <param name="Run">The run as this commit left it, when the next step of the chunk may continue on this worker.</param>
    /// <param name="Output">The step's output, when small, for the next step to read from memory.</param>
    private sealed record Outcome(IReadOnlyList<WorkItem> Next, bool RunFinished, RunRow? Run, ReadOnlyMemory<byte>? Output = null)
    {
        public static Outcome Nothing { get; } = new([], false, null);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Run {RunId} failed: {Reason}")]
    private static partial void LogRunFailed(ILogger logger, string runId, string reason, Exception error);

    [LoggerMessage(Level = LogLevel.Information, Message = "Retrying {Work} after attempt {Attempt} in {DelayMs:F0} ms")]
    private static partial void LogRetry(ILogger logger, string work, long attempt, double delayMs, Exception error);
}
