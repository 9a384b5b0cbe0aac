using Saas.Pipelines.Definitions;
using Saas.Pipelines.Runs;

namespace Saas.Web.Runs;

public sealed record RunDto(
    string Id, string PipelineId, long Version, string Trigger, string Status,
    long? RecordsIn, long? RecordsOut, RunChunksDto Chunks, string? Error, string? ReplayOf,
    DateTimeOffset CreatedAt, DateTimeOffset? StartedAt, DateTimeOffset? FinishedAt, double? DurationMs,
    IReadOnlyList<StepDto>? Steps, IReadOnlyList<DeadLetterDto>? DeadLetters, RunLinksDto Links);

public sealed record RunChunksDto(long? Total, long Done);

/// <summary>One step of a run, summed over the chunks it ran on.</summary>
public sealed record StepDto(
    string Id, string Type, string Status, long Attempts, double? DurationMs, long? RecordsIn, long? RecordsOut,
    long ChunksDone, string? Error, string? ErrorRecord);

public sealed record DeadLetterDto(string Kind, string? StepId, long Chunk, long Attempts, string Reason, DateTimeOffset At);

public sealed record RunLinksDto(string Self, string? Output);

public sealed record RunPageDto(IReadOnlyList<RunDto> Items, string? NextCursor);

public static class RunMapping
{
    public static RunDto ToDto(this RunRow run, CompiledPipeline? pipeline = null, IReadOnlyList<StepRunRow>? stepRuns = null, IReadOnlyList<DeadLetterRow>? deadLetters = null) => new(
        run.Id, run.PipelineId, run.Version, run.Trigger, run.Status, run.RecordsIn, run.RecordsOut,
        new RunChunksDto(run.ChunksTotal, run.ChunksDone), run.Error, run.ReplayOf,
        Time(run.CreatedAt), Time(run.StartedAt), Time(run.FinishedAt),
        run.FinishedAt - (run.StartedAt ?? run.CreatedAt),
        pipeline is null || stepRuns is null ? null : Steps(run, pipeline, stepRuns),
        deadLetters?.Select(d => new DeadLetterDto(d.Kind, d.Kind == WorkKinds.Step && pipeline is not null && d.StepIndex < pipeline.Steps.Count ? pipeline.Steps[(int)d.StepIndex].Id : null, d.Chunk, d.Attempts, d.Reason, Time(d.CreatedAt))).ToList(),
        new RunLinksDto($"/api/v1/runs/{run.Id}", run.Status == RunStatus.Succeeded ? $"/api/v1/runs/{run.Id}/output" : null));

    private static List<StepDto> Steps(RunRow run, CompiledPipeline pipeline, IReadOnlyList<StepRunRow> stepRuns)
    {
        var byStep = stepRuns.ToLookup(s => s.StepIndex);
        return pipeline.Steps.Select(step =>
        {
            var chunks = byStep[step.Index].ToList();
            var done = chunks.Count(c => c.Status == StepStatus.Succeeded);
            var status = chunks.Any(c => c.Status == StepStatus.Failed) ? StepStatus.Failed
                : run.ChunksTotal is { } total && done == total ? StepStatus.Succeeded
                : chunks.Any(c => c.Status == StepStatus.Retrying) ? StepStatus.Retrying
                : chunks.Count > 0 ? StepStatus.Running
                : RunStatus.IsFinished(run.Status) ? "skipped" : StepStatus.Pending;
            var failed = chunks.FirstOrDefault(c => c.Status == StepStatus.Failed) ?? chunks.FirstOrDefault(c => c.Error is not null);
            double? duration = chunks.Count == 0 ? null
                : chunks.All(c => c.FinishedAt is not null && c.StartedAt is not null) && chunks.Count > 1
                    ? chunks.Max(c => c.FinishedAt!.Value) - chunks.Min(c => c.StartedAt!.Value)
                    : chunks.Sum(c => c.DurationMs ?? 0);
            return new StepDto(
                step.Id, step.Type, status, chunks.Count == 0 ? 0 : chunks.Max(c => c.Attempts), duration,
                chunks.Count == 0 ? null : chunks.Sum(c => c.RecordsIn ?? 0), chunks.Count == 0 ? null : chunks.Sum(c => c.RecordsOut ?? 0),
                done, failed?.Error, failed?.ErrorRecord);
        }).ToList();
    }

    private static DateTimeOffset Time(long at) => DateTimeOffset.FromUnixTimeMilliseconds(at);

    private static DateTimeOffset? Time(long? at) => at is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(at.Value);
}
