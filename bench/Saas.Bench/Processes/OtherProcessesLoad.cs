using System.Diagnostics;

namespace Saas.Bench.Processes;

/// <summary>
/// The machine is shared (other builds and tests run on it too), so each measurement also records how much CPU
/// processes other than the benchmark's own (and its children) used meanwhile, and names the busiest.
/// </summary>
public sealed class OtherProcessesLoad
{
    private const double BusyPercent = 15;
    private const int TicksPerSecond = 100;

    private readonly Dictionary<int, (string Name, int Parent, long Ticks)> _before = Processes();
    private readonly Stopwatch _clock = Stopwatch.StartNew();

    public static OtherProcessesLoad Start() => new();

    /// <summary>A warning if others used more than 15% of the machine since <see cref="Start"/>, else null.</summary>
    public string? Warning()
    {
        var after = Processes();
        var seconds = _clock.Elapsed.TotalSeconds;
        var others = after
            .Where(p => !IsOurs(p.Key, after))
            .Select(p => (p.Value.Name, Ticks: p.Value.Ticks - (_before.TryGetValue(p.Key, out var was) ? was.Ticks : 0)))
            .Where(p => p.Ticks > 0)
            .OrderByDescending(p => p.Ticks)
            .ToList();
        var busy = 100 * others.Sum(p => p.Ticks) / (seconds * TicksPerSecond * Environment.ProcessorCount);
        if (busy < BusyPercent)
        {
            return null;
        }
        var culprits = string.Join(", ", others.Take(3).Select(p => $"{p.Name} {p.Ticks * 100 / TicksPerSecond / seconds:0}%"));
        return $"other processes kept the machine {busy:0}% busy during the measurement ({culprits} of one core); the figures are lower than on a quiet machine";
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
                processes[pid] = task;
            }
        }
        return processes;
    }
}
