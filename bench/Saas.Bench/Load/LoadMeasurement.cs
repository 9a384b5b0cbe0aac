using Saas.Bench.Processes;

namespace Saas.Bench.Load;

/// <summary>One wrk load at a given number of connections, and the server's CPU meanwhile (and its upstream's, if it has one).</summary>
public sealed record LoadMeasurement(int Connections, WrkResult Load, CpuUsage Cpu, CpuUsage? UpstreamCpu = null)
{
    /// <summary>One load per number of connections, in that order, on the already warmed-up server.</summary>
    public static async Task<IReadOnlyList<LoadMeasurement>> RunEachAsync(BenchContext context, LoadTarget target, IEnumerable<int> connections, CancellationToken cancellationToken)
    {
        var loads = new List<LoadMeasurement>();
        foreach (var count in connections)
        {
            loads.Add(await RunAsync(context, target, count, cancellationToken));
        }
        return loads;
    }

    public static async Task<LoadMeasurement> RunAsync(BenchContext context, LoadTarget target, int connections, CancellationToken cancellationToken)
    {
        var threads = context.Wrk.ThreadsFor(connections);
        Console.WriteLine($"\nLoading {target.Url} for {context.Options.Duration.TotalSeconds:0} s ({Count(connections, "connection")}, {Count(threads, "thread")})...");
        var before = CpuSnapshot.Take(target.Pid);
        var upstreamBefore = target.Upstream is { } upstream ? CpuSnapshot.Take(upstream.Pid) : null;
        var others = OtherProcessesLoad.Start();
        var load = await context.Wrk.LoadAsync(target, connections, cancellationToken);
        var cpu = CpuSnapshot.Take(target.Pid).Since(before);
        var upstreamCpu = target.Upstream is { } measured ? CpuSnapshot.Take(measured.Pid).Since(upstreamBefore!) : null;
        context.NoteOtherProcesses($"{target.Part} at {Count(connections, "connection")}", others);
        Console.WriteLine(load.Report);
        Console.WriteLine($"{target.Server} at {Count(connections, "connection")}: {load.Describe(target.Unit)}");
        Console.WriteLine($"During the load: {cpu.Describe(target.Server)}");
        if (upstreamCpu is not null)
        {
            Console.WriteLine($"and its upstream: {upstreamCpu.Describe(target.Upstream!.Value.Name, topThreads: 3)}");
        }
        return new LoadMeasurement(connections, load, cpu, upstreamCpu);
    }

    public static string Count(int number, string noun) => $"{number} {noun}{(number == 1 ? "" : "s")}";
}
