using Saas.Bench.Processes;

namespace Saas.Bench.Load;

/// <summary>One wrk load at a given number of connections, and the server's CPU meanwhile.</summary>
public sealed record LoadMeasurement(int Connections, WrkResult Load, CpuUsage Cpu)
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
        var others = OtherProcessesLoad.Start();
        var load = await context.Wrk.LoadAsync(target.Url, target.Body, target.ApiKey, connections, cancellationToken);
        var cpu = CpuSnapshot.Take(target.Pid).Since(before);
        context.NoteOtherProcesses($"{target.Part} at {Count(connections, "connection")}", others);
        Console.WriteLine(load.Report);
        Console.WriteLine($"{target.Server} at {Count(connections, "connection")}: {load.Describe(target.Unit)}");
        Console.WriteLine($"During the load: {cpu.Describe(target.Server)}");
        return new LoadMeasurement(connections, load, cpu);
    }

    public static string Count(int number, string noun) => $"{number} {noun}{(number == 1 ? "" : "s")}";
}
