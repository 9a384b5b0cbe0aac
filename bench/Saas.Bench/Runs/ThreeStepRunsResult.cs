using Saas.Bench.Load;

namespace Saas.Bench.Runs;

/// <summary>The loads on <c>POST /runs?wait=true</c> (one per number of connections), and the runs that did not succeed.</summary>
public sealed record ThreeStepRunsResult(IReadOnlyList<LoadMeasurement> Loads, long RunsFailed, long RunsUnfinished);
