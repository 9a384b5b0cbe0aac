using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Tables;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>
/// Joins records against a tenant's reference table: <c>{"type":"lookup","table":"customers","on":{"customer_id":"id"},
/// "fields":{"tier":"tier"},"default":{"tier":"unknown"}}</c>. Exact match on every key; without a match the
/// fields take their default (or null). A run uses the table version that was newest when the run was created.
/// </summary>
public sealed class LookupStep : IStep, IReferencesResources
{
    private string _table = "";
    private IReadOnlyList<string> _recordKeys = [];
    private IReadOnlyList<string> _tableKeys = [];
    private List<string> _outputFields = [];
    private IReadOnlyList<string> _tableColumns = [];
    private object?[] _defaults = [];
    private readonly List<ResourceReference> _references = [];

    public IReadOnlyList<ResourceReference> References => _references;

    internal static IStep? Compile(JsonObjectReader step)
    {
        var lookup = new LookupStep();
        var errors = step.Errors.Count;
        var table = step.String("table", required: true, "the name of a reference table uploaded with PUT /api/v1/tables/{name}");
        if (table is not null && !ReferenceTables.IsValidName(table))
        {
            step.Error(step.At("table"), $"'{table}' is not a table name ({ReferenceTables.NameRule})");
        }
        lookup._table = table ?? "";
        if (table is not null)
        {
            lookup._references.Add(new ResourceReference(step.At("table"), ResourceKinds.Table, table));
        }
        var on = step.StringMap("on", "table column to match exactly, e.g. {\"customer_id\": \"id\"}");
        lookup._recordKeys = on.Select(o => o.Key).ToList();
        lookup._tableKeys = on.Select(o => o.Value).ToList();
        var fields = step.StringMap("fields", "table column to copy, e.g. {\"tier\": \"tier\"}");
        lookup._outputFields = fields.Select(f => f.Key).ToList();
        lookup._tableColumns = fields.Select(f => f.Value).ToList();
        lookup._defaults = new object?[fields.Count];
        if (step.Property("default") is { } defaults)
        {
            if (defaults.ValueKind != JsonValueKind.Object)
            {
                step.Error(step.At("default"), $"must be an object of field name → value used when no row matches, found {JsonObjectReader.Describe(defaults)}");
            }
            else
            {
                foreach (var property in defaults.EnumerateObject())
                {
                    var index = lookup._outputFields.IndexOf(property.Name);
                    if (index < 0)
                    {
                        step.Error($"{step.At("default")}.{property.Name}", $"is not one of the step's fields ({string.Join(", ", lookup._outputFields)})");
                        continue;
                    }
                    lookup._defaults[index] = RecordJson.ParseValue(System.Text.Encoding.UTF8.GetBytes(property.Value.GetRawText()));
                }
            }
        }
        return step.Errors.Count == errors ? lookup : null;
    }

    public async IAsyncEnumerable<Record> ExecuteAsync(
        IAsyncEnumerable<Record> input,
        StepContext context,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var tables = context.Services.GetRequiredService<ReferenceTables>();
        var pinnedAt = context.RunId is null
            ? long.MaxValue
            : context.Services.GetRequiredService<RunStore>().Find(context.TenantId, context.RunId)?.CreatedAt ?? long.MaxValue;
        var version = tables.VersionAt(context.TenantId, _table, pinnedAt)
            ?? throw new RecordException($"the reference table '{_table}' has no version uploaded before this run started; upload it with PUT /api/v1/tables/{_table}");
        var missing = _tableKeys.Concat(_tableColumns).Where(c => !version.ColumnNames.Contains(c)).Distinct().ToList();
        if (missing.Count > 0)
        {
            throw new RecordException($"the reference table '{_table}' (version {version.Version}) has no column {string.Join(", ", missing.Select(m => $"'{m}'"))}; its columns are {string.Join(", ", version.ColumnNames)}");
        }
        var index = await tables.IndexAsync(context.TenantId, version, _tableKeys, _tableColumns, cancellationToken);
        await foreach (var record in input.WithCancellation(cancellationToken))
        {
            yield return Join(record, index);
        }
    }

    /// <summary>The record with the looked-up fields added (or replaced).</summary>
    internal Record Join(Record record, TableIndex index)
    {
        var values = index.Find(record, _recordKeys) ?? _defaults;
        var output = new Record(record.Count + _outputFields.Count);
        foreach (var (name, value) in record)
        {
            output[name] = value;
        }
        for (var i = 0; i < _outputFields.Count; i++)
        {
            output[_outputFields[i]] = values[i];
        }
        return output;
    }
}
