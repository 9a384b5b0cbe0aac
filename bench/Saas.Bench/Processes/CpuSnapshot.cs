namespace Saas.Bench.Processes;

/// <summary>A snapshot of CPU ticks; two of them make a <see cref="CpuUsage"/>.</summary>
public sealed record CpuSnapshot(long MachineTotal, long MachineIdle, long ProcessTicks, IReadOnlyDictionary<int, (string Name, long Ticks)> Threads)
{
    public static CpuSnapshot Take(int pid)
    {
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(long.Parse).ToArray();
        var idle = fields[3] + fields[4];
        var threads = new Dictionary<int, (string, long)>();
        foreach (var task in SafeDirectories($"/proc/{pid}/task"))
        {
            if (TaskTicks(task) is { } ticks)
            {
                threads[int.Parse(Path.GetFileName(task))] = (ticks.Name, ticks.Ticks);
            }
        }
        return new CpuSnapshot(fields.Take(8).Sum(), idle, TaskTicks($"/proc/{pid}")?.Ticks ?? 0, threads);
    }

    public CpuUsage Since(CpuSnapshot earlier)
    {
        var machineTicks = Math.Max(1, MachineTotal - earlier.MachineTotal);
        var busy = 100.0 * (machineTicks - (MachineIdle - earlier.MachineIdle)) / machineTicks;
        var wallTicks = (double)machineTicks / Environment.ProcessorCount;
        var byThread = Threads
            .Select(t => (t.Value.Name, Ticks: t.Value.Ticks - (earlier.Threads.TryGetValue(t.Key, out var before) ? before.Ticks : 0)))
            .ToList();
        var byName = byThread
            .GroupBy(t => t.Name)
            .Select(g => (Thread: $"{g.Key} x{g.Count()}", Percent: 100.0 * g.Sum(t => t.Ticks) / wallTicks))
            .OrderByDescending(t => t.Percent)
            .ToList();
        var busiest = byThread.Count == 0 ? 0 : 100.0 * byThread.Max(t => t.Ticks) / wallTicks;
        return new CpuUsage(busy, 100.0 * (ProcessTicks - earlier.ProcessTicks) / wallTicks, busiest, byName);
    }

    internal static (string Name, int Parent, long Ticks)? TaskTicks(string task)
    {
        try
        {
            var stat = File.ReadAllText(Path.Combine(task, "stat"));
            var open = stat.IndexOf('(');
            var close = stat.LastIndexOf(')');
            var rest = stat[(close + 2)..].Split(' ');
            return (stat[(open + 1)..close], int.Parse(rest[1]), long.Parse(rest[11]) + long.Parse(rest[12]));
        }
        catch (IOException)
        {
            return null;
        }
    }

    private static IEnumerable<string> SafeDirectories(string path)
    {
        try
        {
            return Directory.GetDirectories(path);
        }
        catch (IOException)
        {
            return [];
        }
    }
}
