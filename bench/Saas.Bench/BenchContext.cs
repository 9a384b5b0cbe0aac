using Saas.Bench.Load;
using Saas.Bench.Processes;

namespace Saas.Bench;

/// <summary>What every part of the benchmark needs; warnings end up under the summary.</summary>
public sealed record BenchContext(BenchOptions Options, BenchPaths Paths, ChildProcesses Children, Wrk Wrk, List<string> Warnings)
{
    public async Task CheckMachineIsQuietAsync(string part, CancellationToken cancellationToken)
    {
        if (await MachineLoad.WarnIfBusyAsync(cancellationToken) is { } warning)
        {
            Warnings.Add($"{part}: {warning}");
        }
    }
}
