namespace Saas.Pipelines.Runs;

/// <summary>One unit of work: split a run's input, run one step on one chunk, or write the sink.</summary>
public sealed record WorkItem(long Id, string TenantId, string RunId, string Kind, long StepIndex, long Chunk, long Attempt)
{
    public string Describe() => Kind switch
    {
        WorkKinds.Step => $"step {StepIndex} of chunk {Chunk} of run {RunId}",
        _ => $"{Kind} of run {RunId}",
    };
}

public static class WorkKinds
{
    public const string Split = "split";
    public const string Step = "step";
    public const string Sink = "sink";
}

public static class RunStatus
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";

    public static readonly string[] All = [Queued, Running, Succeeded, Failed, Cancelled];

    public static bool IsFinished(string status) => status is Succeeded or Failed or Cancelled;
}

public static class StepStatus
{
    public const string Pending = "pending";
    public const string Running = "running";
    public const string Retrying = "retrying";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
}
