using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Tables;

/// <summary>An upload that was stored, or every problem that stopped it, each at its path (<c>name</c>, <c>keys</c>, <c>content</c>).</summary>
public sealed record TableUpload(TableVersionRow? Saved, IReadOnlyList<DefinitionError> Errors);

/// <summary>What a delete did: the versions removed, or (none removed) the pipelines that still use the table.</summary>
public sealed record TableDeletion(IReadOnlyList<TableVersionRow> Deleted, IReadOnlyList<PipelineRow> UsedBy)
{
    public bool NotFound => Deleted.Count == 0 && UsedBy.Count == 0;

    public string Refusal(string name) =>
        $"The reference table '{name}' is used by the lookup steps of {string.Join(", ", UsedBy.Select(p => $"pipeline '{p.Name}' ({p.Id}, version {p.CurrentVersion})"))}: " +
        "publish those pipelines without the lookup on it, then delete the table.";
}

/// <summary>
/// Uploads and deletes reference tables with their checks and audit entries: the one place the tenant API and
/// the portal's tables page go through.
/// </summary>
public sealed class TableChanges(ReferenceTables tables, PipelineStore pipelines, AuditLog audit)
{
    public const int MaxKeyColumns = 8;

    /// <param name="createdBy">The label the version keeps: a portal user's e-mail or an API key's id (decision 013).</param>
    public async Task<TableUpload> UploadAsync(
        string tenantId, AuditActor actor, string? createdBy, string name, InputFormat format, IReadOnlyList<string> keys, Stream content, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (!ReferenceTables.IsValidName(name))
        {
            errors.Add(new("name", $"'{name}' must be {ReferenceTables.NameRule}"));
        }
        if (keys.Any(string.IsNullOrWhiteSpace) || keys.Count > MaxKeyColumns || keys.Distinct(StringComparer.Ordinal).Count() != keys.Count)
        {
            errors.Add(new("keys", $"must name 0 to {MaxKeyColumns} distinct columns, e.g. keys=id or keys=sku,country"));
        }
        if (format is not (InputFormat.Csv or InputFormat.Jsonl))
        {
            errors.Add(new("format", "must be CSV with a header row or JSONL (one JSON object per line)"));
        }
        if (errors.Count > 0)
        {
            return new(null, errors);
        }
        try
        {
            var version = await tables.UploadAsync(tenantId, name, format, content, cancellationToken, keys, createdBy);
            await audit.AppendAsync(tenantId, actor, "table.uploaded", "reference_table", name, new { version.Version, version.Rows, version.Bytes, keys }, cancellationToken);
            return new(version, []);
        }
        catch (RecordException malformed)
        {
            return new(null, [new("content", $"the upload is not a valid {(format == InputFormat.Csv ? "CSV" : "JSONL")} table: {malformed.Message}")]);
        }
    }

    /// <summary>
    /// Deletes a table, or one version of it. Deleting what would leave the table without any version is
    /// refused while a pipeline's current version looks it up (decision 025); older versions may go freely.
    /// </summary>
    public async Task<TableDeletion> DeleteAsync(string tenantId, AuditActor actor, string name, long? version, CancellationToken cancellationToken)
    {
        var versions = tables.List(tenantId, name);
        if (versions.Count == 0 || (version is not null && versions.All(v => v.Version != version)))
        {
            return new([], []);
        }
        if (version is null || versions.Count == 1)
        {
            var users = PipelinesUsing(tenantId, name);
            if (users.Count > 0)
            {
                return new([], users);
            }
        }
        var deleted = await tables.DeleteAsync(tenantId, name, version, cancellationToken);
        if (deleted.Count > 0)
        {
            await audit.AppendAsync(tenantId, actor, version is null ? "table.deleted" : "table.version_deleted", "reference_table", name,
                new { versions = deleted.Select(d => d.Version).ToArray() }, cancellationToken);
        }
        return new(deleted, []);
    }

    /// <summary>The tenant's pipelines whose current version has a lookup step on the table (paused ones too: they may be resumed).</summary>
    public IReadOnlyList<PipelineRow> PipelinesUsing(string tenantId, string name) =>
        pipelines.List(tenantId)
            .Where(p => pipelines.GetCompiled(tenantId, p.Id, p.CurrentVersion).Steps
                .Any(s => s.Step is IReferencesResources r && r.References.Any(x => x.Kind == ResourceKinds.Table && x.Name == name)))
            .ToList();
}
