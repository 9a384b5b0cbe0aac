using Saas.Pipelines.Definitions;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Transform;

/// <summary><c>fields</c>: old name → new name. Keeps field order; other fields pass through.</summary>
public sealed class RenameStep(IReadOnlyDictionary<string, string> renames) : PerRecordStep
{
    internal static IStep? Compile(JsonObjectReader step)
    {
        var renames = step.StringMap("fields", "new field name");
        foreach (var (from, to) in renames.Where(r => r.Value.Length == 0))
        {
            step.Error($"{step.At("fields")}.{from}", "the new name must not be empty");
        }
        var duplicate = renames.GroupBy(r => r.Value).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            step.Error(step.At("fields"), $"several fields are renamed to '{duplicate.Key}'");
            return null;
        }
        return renames.Count == 0 ? null : new RenameStep(renames.ToDictionary(StringComparer.Ordinal));
    }

    protected override Record? Apply(Record record)
    {
        var output = new Record(record.Count);
        foreach (var (name, value) in record)
        {
            output[renames.TryGetValue(name, out var renamed) ? renamed : name] = value;
        }
        return output;
    }
}
