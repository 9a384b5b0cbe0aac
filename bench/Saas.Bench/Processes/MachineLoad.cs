namespace Saas.Bench.Processes;

/// <summary>
/// The machine is shared (other builds and tests run on it too), so before each load the benchmark looks
/// at how busy it already is, and says which processes are to blame.
/// </summary>
public static class MachineLoad
{
    private const double BusyPercent = 15;

    /// <summary>A warning if more than 15% of the CPU was busy during one quiet second, else null.</summary>
    public static async Task<string?> WarnIfBusyAsync(CancellationToken cancellationToken)
    {
        var before = CpuSnapshot.Take(Environment.ProcessId);
        var processesBefore = ProcessTicks();
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var busy = CpuSnapshot.Take(Environment.ProcessId).Since(before).MachineBusyPercent;
        if (busy < BusyPercent)
        {
            return null;
        }
        var culprits = ProcessTicks()
            .Select(p => (p.Value.Name, Ticks: p.Value.Ticks - (processesBefore.TryGetValue(p.Key, out var was) ? was.Ticks : 0)))
            .Where(p => p.Ticks > 0)
            .OrderByDescending(p => p.Ticks)
            .Take(3)
            .Select(p => $"{p.Name} {p.Ticks}%");
        var warning = $"the machine was {busy:0}% busy before the load (busiest, in % of one core: {string.Join(", ", culprits)}); the figures are lower than on a quiet machine";
        Console.WriteLine($"WARNING: {warning}");
        return warning;
    }

    /// <summary>CPU ticks (1/100 s) used so far by every process, by pid.</summary>
    private static Dictionary<int, (string Name, long Ticks)> ProcessTicks()
    {
        var ticks = new Dictionary<int, (string, long)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && CpuSnapshot.TaskTicks(directory) is { } used)
            {
                ticks[pid] = used;
            }
        }
        return ticks;
    }
}
