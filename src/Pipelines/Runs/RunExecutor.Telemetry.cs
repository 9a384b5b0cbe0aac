using System.Diagnostics;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Telemetry;

namespace Saas.Pipelines.Runs;

/// <summary>Spans and metrics around the executor's units of work (<see cref="FlowgateTelemetry"/>).</summary>
public sealed partial class RunExecutor
{
    private async Task<ExecutedStep> TracedStepAsync(WorkItem item, RunRow run, CompiledPipeline pipeline, long index, ReadOnlyMemory<byte>? chainedInput, CancellationToken cancellationToken)
    {
        var stepId = pipeline.Steps[(int)index].Id;
        using var activity = FlowgateTelemetry.StartWork(item with { StepIndex = index }, run, $"step {stepId}", stepId);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var step = await ExecuteStepAsync(item, run, pipeline, index, chainedInput, cancellationToken);
            FlowgateTelemetry.WorkSucceeded(activity, WorkKinds.Step, Stopwatch.GetElapsedTime(started), step.RecordsIn, step.RecordsOut);
            return step;
        }
        catch (Exception error)
        {
            FlowgateTelemetry.WorkFailed(activity, WorkKinds.Step, Stopwatch.GetElapsedTime(started), error);
            throw;
        }
    }

    private async Task<Outcome> TracedAsync(WorkItem item, RunRow run, Func<Task<Outcome>> work)
    {
        using var activity = FlowgateTelemetry.StartWork(item, run, item.Kind, null);
        var started = Stopwatch.GetTimestamp();
        try
        {
            var outcome = await work();
            FlowgateTelemetry.WorkSucceeded(activity, item.Kind, Stopwatch.GetElapsedTime(started));
            return outcome;
        }
        catch (Exception error)
        {
            FlowgateTelemetry.WorkFailed(activity, item.Kind, Stopwatch.GetElapsedTime(started), error);
            throw;
        }
    }
}
