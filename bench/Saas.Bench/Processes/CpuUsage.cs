namespace Saas.Bench.Processes;

/// <summary>CPU used by one process (per thread name) and by the whole machine between two moments, from /proc.</summary>
public sealed record CpuUsage(double MachineBusyPercent, double ProcessPercent, double BusiestThreadPercent, IReadOnlyList<(string Thread, double Percent)> Threads)
{
    /// <summary>Process and thread percentages are of one core (200% is both cores); the machine's is of all cores.</summary>
    public string Describe(string processName, int topThreads = 8) =>
        $"{processName} {ProcessPercent:0}% CPU (of {Environment.ProcessorCount * 100}%), whole machine {MachineBusyPercent:0}% busy; " +
        $"busiest single thread {BusiestThreadPercent:0}%; by thread name: {string.Join(", ", Threads.Take(topThreads).Select(t => $"{t.Thread} {t.Percent:0}%"))}";
}
