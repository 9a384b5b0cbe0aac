using Saas.Bench;
using Saas.Bench.Csv;
using Saas.Bench.Flowgate;
using Saas.Bench.Gateway;
using Saas.Bench.Load;
using Saas.Bench.NodeRed;
using Saas.Bench.Noisy;
using Saas.Bench.Processes;
using Saas.Bench.Report;
using Saas.Bench.Runs;

// The gateway part's upstream runs as a child process of this same executable.
if (args is [UpstreamServer.Mode, "--port", var upstreamPort])
{
    return await UpstreamServer.ServeAsync(int.Parse(upstreamPort));
}

BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (ArgumentException error)
{
    Console.Error.WriteLine(error.Message);
    return 2;
}

var paths = BenchPaths.Find();
using var children = new ChildProcesses(paths.Logs);
using var cancel = new CancellationTokenSource();
var summary = new SummaryTable(options.Connections, options.Parts);

await Part("setup", async () =>
{
    await Wrk.EnsureInstalledAsync(children);
    if (options.Includes(BenchOptions.Runs) || options.Includes(BenchOptions.Csv) || options.Includes(BenchOptions.Gateway) || options.Includes(BenchOptions.Noisy))
    {
        await FlowgateServer.BuildAsync(children, paths);
    }
});
var context = new BenchContext(options, paths, children, new Wrk(children, paths, options), summary.Warnings);
if (summary.Failures.Count == 0)
{
    if (options.Includes(BenchOptions.Runs))
    {
        await Part("runs", async () => summary.Runs = await ThreeStepRunsBenchmark.RunAsync(context, cancel.Token));
    }
    if (options.Includes(BenchOptions.Csv))
    {
        await Part("csv", async () => summary.Csv = await CsvThroughputBenchmark.RunAsync(context, cancel.Token));
    }
    if (options.Includes(BenchOptions.NodeRed))
    {
        await Part("nodered", async () => summary.NodeRed = await NodeRedBenchmark.RunAsync(context, cancel.Token));
    }
    if (options.Includes(BenchOptions.Gateway))
    {
        await Part("gateway", async () =>
        {
            summary.Gateway = await GatewayBenchmark.RunAsync(context, cancel.Token);
            if (summary.Gateway.Metering.Problem is { } problem)
            {
                summary.Failures.Add($"gateway metering: {problem}");
            }
        });
    }
    if (options.Includes(BenchOptions.Noisy))
    {
        await Part("noisy", async () => summary.Noisy = await NoisyNeighbourBenchmark.RunAsync(context, cancel.Token));
    }
}
summary.Print();
Console.WriteLine($"Logs of the servers: {paths.Logs}");
return summary.Failures.Count == 0 ? 0 : 1;

// A part that fails is reported and the others still run; child processes are killed either way.
async Task Part(string name, Func<Task> part)
{
    try
    {
        await part();
    }
    catch (Exception error) when (error is InvalidOperationException or TimeoutException or HttpRequestException or IOException)
    {
        Console.WriteLine($"{name} failed: {error.Message}");
        summary.Failures.Add($"{name}: {error.Message.Split('\n')[0]}");
    }
}
