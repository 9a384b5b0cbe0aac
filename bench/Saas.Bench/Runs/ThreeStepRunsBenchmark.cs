using Saas.Bench.Flowgate;
using Saas.Bench.Load;
using Saas.Bench.Report;

namespace Saas.Bench.Runs;

/// <summary>
/// Part 1: one small record per <c>POST /pipelines/{id}/runs?wait=true</c> through map → filter → select,
/// loaded by wrk from a second process: for throughput at <see cref="BenchOptions.Connections"/>, then for latency
/// at 4 and 1 connections (at 32, p50 cannot be below 32 / runs/s).
/// </summary>
public static class ThreeStepRunsBenchmark
{
    private static IEnumerable<int> Connections(BenchOptions options) => new[] { options.Connections, 4, Targets.LatencyConnections }.Distinct();

    public static async Task<ThreeStepRunsResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine("\n== 1. Flowgate three-step runs (POST /runs?wait=true, one record each) ==");
        var server = await FlowgateServer.StartAsync(context.Children, context.Paths, "runs", context.Options.UnlimitedHostSettings);
        try
        {
            var api = server.Api;
            var pipelineId = await api.CreatePipelineAsync(PipelineDefinitions.ThreeStep, cancellationToken);
            var check = await api.RunAndWaitAsync(pipelineId, PipelineDefinitions.SmallRecord, cancellationToken);
            if (check.Status != "succeeded" || check.RecordsOut != 1)
            {
                throw new InvalidOperationException($"the correctness check failed: run {check.Id} is {check.Status} with {check.RecordsOut} records out (expected succeeded, 1): {check.Error}");
            }
            Console.WriteLine($"Correctness check: run {check.Id} {check.Status}, records in {check.RecordsIn}, out {check.RecordsOut}.");

            var target = new LoadTarget("runs", "Flowgate", server.Pid, "runs", api.RunsUrl(pipelineId), PipelineDefinitions.SmallRecord, LoadTarget.Bearer(api.ApiKey));
            Console.WriteLine($"Warming up for {context.Options.Warmup.TotalSeconds:0} s ({LoadMeasurement.Count(context.Options.Connections, "connection")})...");
            await context.Wrk.WarmUpAsync(target, cancellationToken);
            var loads = await LoadMeasurement.RunEachAsync(context, target, Connections(context.Options), cancellationToken);

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken); // runs whose requests wrk cut off at the end still finish
            var failed = await api.CountRunsAsync("failed", cancellationToken);
            var unfinished = await api.CountRunsAsync("queued", cancellationToken) + await api.CountRunsAsync("running", cancellationToken);
            var result = new ThreeStepRunsResult(loads, failed, unfinished);
            Console.WriteLine($"\nRuns failed: {failed}, still queued or running after the loads: {unfinished}");
            return result;
        }
        finally
        {
            server.Stop();
        }
    }
}
