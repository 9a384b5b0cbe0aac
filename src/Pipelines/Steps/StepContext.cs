using System.Collections.Concurrent;

namespace Saas.Pipelines.Steps;

/// <summary>
/// What a step execution may know and use beyond its records: whose work it is, the engine's services
/// (HTTP clients, secrets, model providers) and a place to report usage beyond the execution itself
/// (tokens), which the executor meters with the step run in the same commit — exactly once.
/// </summary>
public sealed class StepContext(string tenantId, string? pipelineId, string? runId, string stepId, long chunk, IServiceProvider services)
{
    public string TenantId { get; } = tenantId;

    /// <summary>Null for a draft (a test run from the builder: nothing stored, nothing billed).</summary>
    public string? PipelineId { get; } = pipelineId;

    public string? RunId { get; } = runId;

    public string StepId { get; } = stepId;

    public long Chunk { get; } = chunk;

    public IServiceProvider Services { get; } = services;

    public StepUsage Usage { get; } = new();

    /// <summary>A context for a draft run of a definition that is not stored.</summary>
    public static StepContext Draft(string tenantId, string stepId, IServiceProvider services) =>
        new(tenantId, null, null, stepId, 0, services);
}

/// <summary>Usage a step reports while it runs, summed per meter and model. Thread-safe.</summary>
public sealed class StepUsage
{
    private readonly ConcurrentDictionary<(string Meter, string? Model), long> _totals = new();

    public void Add(string meter, long quantity, string? model = null) =>
        _totals.AddOrUpdate((meter, model), quantity, (_, total) => total + quantity);

    public IEnumerable<(string Meter, string? Model, long Quantity)> Totals =>
        _totals.Where(t => t.Value > 0).Select(t => (t.Key.Meter, t.Key.Model, t.Value)).OrderBy(t => t.Meter, StringComparer.Ordinal).ThenBy(t => t.Model, StringComparer.Ordinal);
}
