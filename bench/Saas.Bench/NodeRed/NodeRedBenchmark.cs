using Saas.Bench.Flowgate;
using Saas.Bench.Load;
using Saas.Bench.Processes;

namespace Saas.Bench.NodeRed;

public sealed record NodeRedResult(WrkResult Load, CpuUsage Cpu);

/// <summary>Part 3: the same wrk script and settings against Node-RED doing the same three steps in a function node.</summary>
public static class NodeRedBenchmark
{
    public static async Task<NodeRedResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine("\n== 3. Node-RED comparison (http in → function → http response) ==");
        var install = await NodeRedInstall.EnsureAsync(context.Children, context.Paths);
        var server = await NodeRedServer.StartAsync(context.Children, context.Paths, install);
        try
        {
            var answer = await server.PostAsync(PipelineDefinitions.SmallRecord);
            if (answer != NodeRedFlow.ExpectedResponse)
            {
                throw new InvalidOperationException($"the correctness check failed: Node-RED answered {answer ?? "an error"}, expected {NodeRedFlow.ExpectedResponse}");
            }
            Console.WriteLine($"Correctness check: {answer}");
            Console.WriteLine($"Warming up for {context.Options.Warmup.TotalSeconds:0} s...");
            await context.Wrk.WarmUpAsync(server.RunUrl, PipelineDefinitions.SmallRecord, null, cancellationToken);
            Console.WriteLine($"Loading {server.RunUrl} for {context.Options.Duration.TotalSeconds:0} s ({context.Options.Connections} connections, {context.Options.Threads} threads)...");
            var before = CpuSnapshot.Take(server.Pid);
            var others = OtherProcessesLoad.Start();
            var load = await context.Wrk.LoadAsync(server.RunUrl, PipelineDefinitions.SmallRecord, null, cancellationToken);
            var cpu = CpuSnapshot.Take(server.Pid).Since(before);
            context.NoteOtherProcesses("nodered", others);
            Console.WriteLine(load.Report);
            Console.WriteLine($"Node-RED: {load.Describe("req")}");
            Console.WriteLine($"During the load: {cpu.Describe("node")}");
            return new NodeRedResult(load, cpu);
        }
        finally
        {
            server.Stop();
        }
    }
}
