using Saas.Bench.Flowgate;
using Saas.Bench.Load;
using Saas.Bench.Report;

namespace Saas.Bench.NodeRed;

public sealed record NodeRedResult(IReadOnlyList<LoadMeasurement> Loads);

/// <summary>
/// Part 3: the same wrk script and settings against Node-RED doing the same three steps in a function node,
/// at <see cref="BenchOptions.Connections"/> and at 1 connection.
/// </summary>
public static class NodeRedBenchmark
{
    private static IEnumerable<int> Connections(BenchOptions options) => new[] { options.Connections, Targets.LatencyConnections }.Distinct();

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
            var target = new LoadTarget("nodered", "Node-RED", server.Pid, "req", server.RunUrl, PipelineDefinitions.SmallRecord, LoadTarget.Bearer(null));
            Console.WriteLine($"Warming up for {context.Options.Warmup.TotalSeconds:0} s ({LoadMeasurement.Count(context.Options.Connections, "connection")})...");
            await context.Wrk.WarmUpAsync(target, cancellationToken);
            var loads = await LoadMeasurement.RunEachAsync(context, target, Connections(context.Options), cancellationToken);
            return new NodeRedResult(loads);
        }
        finally
        {
            server.Stop();
        }
    }
}
