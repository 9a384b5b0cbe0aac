using Saas.Bench.Flowgate;
using Saas.Bench.Processes;

namespace Saas.Bench.Runs;

/// <summary>
/// Part 1: one small record per <c>POST /pipelines/{id}/runs?wait=true</c> through map → filter → select,
/// loaded by wrk from a second process.
/// </summary>
public static class ThreeStepRunsBenchmark
{
    public static async Task<ThreeStepRunsResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine("\n== 1. Flowgate three-step runs (POST /runs?wait=true, one record each) ==");
        var server = await FlowgateServer.StartAsync(context.Children, context.Paths, "runs", context.Options.HostSettings);
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

            var url = api.RunsUrl(pipelineId);
            Console.WriteLine($"Warming up for {context.Options.Warmup.TotalSeconds:0} s...");
            await context.Wrk.WarmUpAsync(url, PipelineDefinitions.SmallRecord, api.ApiKey, cancellationToken);
            Console.WriteLine($"Loading {url} for {context.Options.Duration.TotalSeconds:0} s ({context.Options.Connections} connections, {context.Options.Threads} threads)...");
            var before = CpuSnapshot.Take(server.Pid);
            var others = OtherProcessesLoad.Start();
            var load = await context.Wrk.LoadAsync(url, PipelineDefinitions.SmallRecord, api.ApiKey, cancellationToken);
            var cpu = CpuSnapshot.Take(server.Pid).Since(before);
            context.NoteOtherProcesses("runs", others);
            Console.WriteLine(load.Report);

            await Task.Delay(TimeSpan.FromSeconds(2), cancellationToken); // runs whose requests wrk cut off at the end still finish
            var failed = await api.CountRunsAsync("failed", cancellationToken);
            var unfinished = await api.CountRunsAsync("queued", cancellationToken) + await api.CountRunsAsync("running", cancellationToken);
            var result = new ThreeStepRunsResult(load, cpu, failed, unfinished);
            Console.WriteLine($"Flowgate: {load.Describe("runs")}");
            Console.WriteLine($"During the load: {cpu.Describe("host")}");
            Console.WriteLine($"Runs failed: {failed}, still queued or running after the load: {unfinished}");
            return result;
        }
        finally
        {
            server.Stop();
        }
    }
}
