using Saas.Bench.Load;
using Saas.Bench.Processes;

namespace Saas.Bench.Runs;

/// <summary>The load on <c>POST /runs?wait=true</c>, what the host used meanwhile, and the runs that did not succeed.</summary>
public sealed record ThreeStepRunsResult(WrkResult Load, CpuUsage Cpu, long RunsFailed, long RunsUnfinished);
