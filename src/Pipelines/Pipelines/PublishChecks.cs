using Saas.Pipelines.Definitions;
using Saas.Pipelines.Network;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Tables;

namespace Saas.Pipelines.Pipelines;

/// <summary>
/// What a definition cannot know by itself: that the secrets and reference tables it names exist in the tenant's account, that
/// its webhook may be reached, and that its queue sink does not feed back into itself through other
/// pipelines. Run when a pipeline is created, published or validated.
/// </summary>
public sealed class PublishChecks(TenantSecrets secrets, ReferenceTables tables, PipelineStore pipelines, GuardedHttpClientFactory network)
{
    /// <param name="pipelineId">The pipeline being published, null for a new one.</param>
    public IReadOnlyList<DefinitionError> Check(string tenantId, CompiledPipeline pipeline, string? pipelineId = null)
    {
        var errors = new List<DefinitionError>();
        var sink = pipeline.Definition.Sink;
        var references = pipeline.Steps.SelectMany(s => s.Step is IReferencesResources r ? r.References : []).ToList();
        if (sink.Secret is not null)
        {
            references.Add(new ResourceReference("sink.secret", ResourceKinds.Secret, sink.Secret));
        }
        if (references.Any(r => r.Kind == ResourceKinds.Secret))
        {
            var existing = secrets.List(tenantId).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var reference in references.Where(r => r.Kind == ResourceKinds.Secret && !existing.Contains(r.Name)))
            {
                errors.Add(new(reference.Path, $"the secret '{reference.Name}' does not exist; create it with PUT /api/v1/secrets/{reference.Name}"));
            }
        }
        if (references.Any(r => r.Kind == ResourceKinds.Table))
        {
            var existing = tables.List(tenantId).Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var reference in references.Where(r => r.Kind == ResourceKinds.Table && !existing.Contains(r.Name)))
            {
                errors.Add(new(reference.Path, $"the reference table '{reference.Name}' does not exist; upload it with PUT /api/v1/tables/{reference.Name}"));
            }
        }
        if (sink.Url is not null)
        {
            try
            {
                network.Urls.EnsureAllowed(new Uri(sink.Url));
            }
            catch (OutboundCallRefusedException refused)
            {
                errors.Add(new("sink.url", refused.Message));
            }
        }
        if (sink.Queue is not null && FindLoop(tenantId, pipeline.Definition, pipelineId) is { } loop)
        {
            errors.Add(new("sink.queue", $"records would loop back to this pipeline: {loop}; a queue sink must not feed, directly or through other pipelines, the queue that triggers it"));
        }
        return errors;
    }

    /// <summary>
    /// Follows queue sinks from this pipeline through the tenant's pipelines (with this definition in place
    /// of its current one) and returns the path that comes back to it, e.g. "queue 'a' → pipeline 'x' → queue 'b' → this pipeline".
    /// </summary>
    private string? FindLoop(string tenantId, PipelineDefinition definition, string? pipelineId)
    {
        var listeners = new Dictionary<string, List<(string Name, string? SinkQueue, bool IsThis)>>(StringComparer.Ordinal);
        void Listen(string? queue, string name, string? sinkQueue, bool isThis)
        {
            if (queue is null)
            {
                return;
            }
            if (!listeners.TryGetValue(queue, out var list))
            {
                listeners[queue] = list = [];
            }
            list.Add((name, sinkQueue, isThis));
        }
        foreach (var row in pipelines.List(tenantId).Where(p => p.Id != pipelineId && p.TriggerQueue is not null))
        {
            Listen(row.TriggerQueue, row.Name, pipelines.GetCompiled(tenantId, row.Id, row.CurrentVersion).Definition.Sink.Queue, false);
        }
        Listen(definition.Trigger.Queue, definition.Name, definition.Sink.Queue, true);

        var visited = new HashSet<string>(StringComparer.Ordinal);
        string? Walk(string queue, string path)
        {
            if (!visited.Add(queue) || !listeners.TryGetValue(queue, out var list))
            {
                return null;
            }
            foreach (var (name, sinkQueue, isThis) in list)
            {
                var step = $"{path} → queue '{queue}' → " + (isThis ? $"'{name}' (this pipeline)" : $"pipeline '{name}'");
                if (isThis)
                {
                    return step;
                }
                if (sinkQueue is not null && Walk(sinkQueue, step) is { } found)
                {
                    return found;
                }
            }
            return null;
        }
        return Walk(definition.Sink.Queue!, $"'{definition.Name}'");
    }
}
