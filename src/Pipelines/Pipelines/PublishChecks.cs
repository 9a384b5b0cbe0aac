using Saas.Pipelines.Definitions;
using Saas.Pipelines.Secrets;

namespace Saas.Pipelines.Pipelines;

/// <summary>
/// What a definition cannot know by itself: that the secrets and tables it names exist in the tenant's
/// account. Run when a pipeline is created, published or validated.
/// </summary>
public sealed class PublishChecks(TenantSecrets secrets)
{
    /// <param name="pipelineId">The pipeline being published, null for a new one.</param>
    public IReadOnlyList<DefinitionError> Check(string tenantId, CompiledPipeline pipeline, string? pipelineId = null)
    {
        var errors = new List<DefinitionError>();
        var references = pipeline.Steps.SelectMany(s => s.Step is IReferencesResources r ? r.References : []).ToList();
        if (references.Any(r => r.Kind == ResourceKinds.Secret))
        {
            var existing = secrets.List(tenantId).Select(s => s.Name).ToHashSet(StringComparer.Ordinal);
            foreach (var reference in references.Where(r => r.Kind == ResourceKinds.Secret && !existing.Contains(r.Name)))
            {
                errors.Add(new(reference.Path, $"the secret '{reference.Name}' does not exist; create it with PUT /api/v1/secrets/{reference.Name}"));
            }
        }
        return errors;
    }
}
