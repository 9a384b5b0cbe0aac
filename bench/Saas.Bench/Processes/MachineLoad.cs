using System.Diagnostics;

namespace Saas.Bench.Processes;

/// <summary>
/// The machine is shared (other builds and tests run on it too), so before each load the benchmark measures
/// how much CPU processes other than its own (and its children) use, and names them.
/// </summary>
public static class MachineLoad
{
    private const double BusyPercent = 15;
    private const int TicksPerSecond = 100;

    /// <summary>A warning if others used more than 15% of the machine during one second, else null.</summary>
    public static async Task<string?> WarnIfBusyAsync(CancellationToken cancellationToken)
    {
        var before = Processes();
        var clock = Stopwatch.StartNew();
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        var after = Processes();
        var available = clock.Elapsed.TotalSeconds * TicksPerSecond * Environment.ProcessorCount;
        var others = after
            .Where(p => !IsOurs(p.Key, after))
            .Select(p => (p.Value.Name, Ticks: p.Value.Ticks - (before.TryGetValue(p.Key, out var was) ? was.Ticks : 0)))
            .Where(p => p.Ticks > 0)
            .OrderByDescending(p => p.Ticks)
            .ToList();
        var busy = 100 * others.Sum(p => p.Ticks) / available;
        if (busy < BusyPercent)
        {
            return null;
        }
        var culprits = string.Join(", ", others.Take(3).Select(p => $"{p.Name} {p.Ticks * 100 / TicksPerSecond / clock.Elapsed.TotalSeconds:0}%"));
        var warning = $"other processes kept the machine {busy:0}% busy just before the load ({culprits} of one core); the figures are lower than on a quiet machine";
        Console.WriteLine($"WARNING: {warning}");
        return warning;
    }

    private static bool IsOurs(int pid, Dictionary<int, (string Name, int Parent, long Ticks)> processes)
    {
        for (var depth = 0; depth < 32 && pid > 1; depth++)
        {
            if (pid == Environment.ProcessId)
            {
                return true;
            }
            pid = processes.TryGetValue(pid, out var process) ? process.Parent : 0;
        }
        return false;
    }

    /// <summary>Every process's name, parent and CPU ticks used so far, by pid.</summary>
    private static Dictionary<int, (string Name, int Parent, long Ticks)> Processes()
    {
        var processes = new Dictionary<int, (string, int, long)>();
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid) && CpuSnapshot.TaskTicks(directory) is { } task)
            {
                processes[pid] = (task.Name, task.Parent, task.Ticks);
            }
        }
        return processes;
    }
}
