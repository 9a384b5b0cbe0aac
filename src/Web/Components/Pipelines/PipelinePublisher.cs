using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;

namespace Saas.Web.Components.Pipelines;

/// <summary>
/// What the builder's pages change, each with its audit entry (the same actions the API records), so a
/// version published in the browser is as accountable as one published with a key.
/// </summary>
internal sealed class PipelinePublisher(PipelineStore pipelines, AuditLog audit)
{
    public async Task<PipelineRow> CreateAsync(BuilderUser user, string json, CompiledPipeline pipeline, CancellationToken cancellationToken)
    {
        var row = await pipelines.CreateAsync(user.TenantId, json, pipeline, user.PublishedBy, cancellationToken);
        await audit.AppendAsync(user.TenantId, user.Actor, "pipeline.created", "pipeline", row.Id, new { row.Name, version = row.CurrentVersion }, cancellationToken);
        return row;
    }

    /// <param name="rolledBackFrom">The old version whose definition this republishes, for a rollback.</param>
    public async Task<PipelineRow?> PublishAsync(BuilderUser user, string pipelineId, string json, CompiledPipeline pipeline, long? rolledBackFrom, CancellationToken cancellationToken)
    {
        var row = await pipelines.PublishAsync(user.TenantId, pipelineId, json, pipeline, user.PublishedBy, cancellationToken);
        if (row is not null)
        {
            await audit.AppendAsync(user.TenantId, user.Actor, rolledBackFrom is null ? "pipeline.published" : "pipeline.rolled_back", "pipeline", pipelineId,
                new { version = row.CurrentVersion, from = rolledBackFrom }, cancellationToken);
        }
        return row;
    }

    public async Task<PipelineRow?> SetStatusAsync(BuilderUser user, string pipelineId, string status, CancellationToken cancellationToken)
    {
        var row = await pipelines.SetStatusAsync(user.TenantId, pipelineId, status, cancellationToken);
        if (row is not null)
        {
            await audit.AppendAsync(user.TenantId, user.Actor, status == PipelineStatus.Paused ? "pipeline.paused" : "pipeline.resumed", "pipeline", pipelineId, null, cancellationToken);
        }
        return row;
    }
}
