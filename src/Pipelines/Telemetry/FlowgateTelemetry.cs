using System.Diagnostics;
using System.Diagnostics.Metrics;
using System.Security.Cryptography;
using System.Text;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Telemetry;

/// <summary>
/// The engine's traces and metrics (names under <see cref="Name"/>). A run's work happens in many
/// processes over time, so its trace id is derived from the run id: the trigger's span and every
/// step's span join the same trace under one (virtual) root without storing a trace context.
/// </summary>
public static class FlowgateTelemetry
{
    public const string Name = "Flowgate.Pipelines";

    public static readonly ActivitySource Source = new(Name);

    public static readonly Meter Meter = new(Name);

    private static readonly Counter<long> RunsStarted = Meter.CreateCounter<long>("flowgate.runs.started", "{run}", "Runs created, by trigger");
    private static readonly Counter<long> RunsFinished = Meter.CreateCounter<long>("flowgate.runs.finished", "{run}", "Runs finished, by status");
    private static readonly Counter<long> Executions = Meter.CreateCounter<long>("flowgate.work.executions", "{execution}", "Work items executed (a step on a chunk, a split, a sink), by kind and outcome");
    private static readonly Histogram<double> Durations = Meter.CreateHistogram<double>("flowgate.work.duration", "s", "How long executing one work item took, by kind");
    private static readonly Counter<long> Errors = Meter.CreateCounter<long>("flowgate.work.errors", "{error}", "Failed executions, by kind and whether they end the run");
    private static readonly Counter<long> Retries = Meter.CreateCounter<long>("flowgate.work.retries", "{retry}", "Failed executions scheduled to run again");
    private static readonly Histogram<double> CommitWaits = Meter.CreateHistogram<double>("flowgate.db.commit.wait", "s", "Time a write waited for the writer before its batch began");
    private static readonly Histogram<double> CommitDurations = Meter.CreateHistogram<double>("flowgate.db.commit.duration", "s", "How long the writer was busy with one group-commit batch: its statements, its commit and the WAL upkeep after it");
    private static readonly Histogram<long> CommitUnits = Meter.CreateHistogram<long>("flowgate.db.commit.units", "{write}", "Writes committed together in one batch");
    private static readonly Histogram<double> QueueLag = Meter.CreateHistogram<double>("flowgate.work.queue_lag", "s", "Time from a work message being enqueued to its execution starting, by transport");

    /// <summary>A group commit: how long it took, how many writes it carried and how long the oldest one waited for it.</summary>
    public static void Committed(TimeSpan duration, int units, TimeSpan oldestWait)
    {
        CommitDurations.Record(duration.TotalSeconds);
        CommitUnits.Record(units);
        CommitWaits.Record(oldestWait.TotalSeconds);
    }

    /// <summary>The run's trace: a trace id and a root span id that every process derives alike.</summary>
    public static ActivityContext RunContext(string runId)
    {
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes(runId), hash);
        return new ActivityContext(ActivityTraceId.CreateFromBytes(hash[..16]), ActivitySpanId.CreateFromBytes(hash[16..24]), ActivityTraceFlags.Recorded, isRemote: true);
    }

    /// <summary>The trigger's span, linked to whatever was running (an HTTP request, a timer, a message).</summary>
    public static void RunCreated(RunRow run)
    {
        RunsStarted.Add(1, new KeyValuePair<string, object?>("flowgate.trigger", run.Trigger));
        if (!Source.HasListeners())
        {
            return;
        }
        var caller = Activity.Current;
        using var activity = Source.StartActivity($"trigger {run.Trigger}", ActivityKind.Producer, RunContext(run.Id),
            links: caller is null ? null : [new ActivityLink(caller.Context)]);
        Tag(activity, run.TenantId, run.Id, run.PipelineId)?.SetTag("flowgate.trigger", run.Trigger);
    }

    /// <summary>A span for one step on one chunk (or a split or sink), in the run's trace.</summary>
    public static Activity? StartWork(WorkItem item, RunRow run, string name, string? stepId)
    {
        if (!Source.HasListeners())
        {
            return null;
        }
        var activity = Source.StartActivity(name, ActivityKind.Consumer, RunContext(run.Id));
        return Tag(activity, run.TenantId, run.Id, run.PipelineId)?
            .SetTag("flowgate.work.kind", item.Kind).SetTag("flowgate.step.id", stepId).SetTag("flowgate.step.index", item.StepIndex)
            .SetTag("flowgate.chunk", item.Chunk).SetTag("flowgate.attempt", item.Attempt);
    }

    public static void WorkSucceeded(Activity? activity, string kind, TimeSpan duration, long? recordsIn = null, long? recordsOut = null)
    {
        Executions.Add(1, new("flowgate.work.kind", kind), new("flowgate.outcome", "succeeded"));
        Durations.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("flowgate.work.kind", kind));
        activity?.SetTag("flowgate.records.in", recordsIn).SetTag("flowgate.records.out", recordsOut);
    }

    public static void WorkFailed(Activity? activity, string kind, TimeSpan duration, Exception error)
    {
        Executions.Add(1, new("flowgate.work.kind", kind), new("flowgate.outcome", "failed"));
        Durations.Record(duration.TotalSeconds, new KeyValuePair<string, object?>("flowgate.work.kind", kind));
        activity?.SetStatus(ActivityStatusCode.Error, error.Message);
        activity?.AddException(error);
    }

    /// <param name="final">Whether the failure ends the run (permanent, or out of attempts) rather than being retried.</param>
    public static void FailureRecorded(string kind, bool final)
    {
        Errors.Add(1, new("flowgate.work.kind", kind), new("flowgate.final", final));
        if (!final)
        {
            Retries.Add(1, new KeyValuePair<string, object?>("flowgate.work.kind", kind));
        }
    }

    public static void RunFinished(string status) => RunsFinished.Add(1, new KeyValuePair<string, object?>("flowgate.run.status", status));

    /// <param name="transport">sql (embedded workers), azure-storage or service-bus.</param>
    public static void Lag(string transport, TimeSpan lag) =>
        QueueLag.Record(Math.Max(0, lag.TotalSeconds), new KeyValuePair<string, object?>("flowgate.transport", transport));

    private static Activity? Tag(Activity? activity, string tenantId, string runId, string pipelineId) =>
        activity?.SetTag("flowgate.tenant.id", tenantId).SetTag("flowgate.run.id", runId).SetTag("flowgate.pipeline.id", pipelineId);
}
