using Saas.Bench.Load;
using Saas.Bench.Processes;

namespace Saas.Bench;

/// <summary>What every part of the benchmark needs; warnings end up under the summary.</summary>
public sealed record BenchContext(BenchOptions Options, BenchPaths Paths, ChildProcesses Children, Wrk Wrk, List<string> Warnings)
{
    public void NoteOtherProcesses(string part, OtherProcessesLoad others)
    {
        if (others.Warning() is { } warning)
        {
            Console.WriteLine($"WARNING: {warning}");
            Warnings.Add($"{part}: {warning}");
        }
    }
}
