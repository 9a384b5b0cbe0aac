using Saas.Pipelines.Definitions;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Transform;

/// <summary><c>fields</c>: names to remove; every other field passes through in order.</summary>
public sealed class DropStep(IReadOnlySet<string> fields) : PerRecordStep
{
    internal static IStep? Compile(JsonObjectReader step)
    {
        var fields = step.FieldList("fields");
        return fields.Count == 0 ? null : new DropStep(fields.ToHashSet(StringComparer.Ordinal));
    }

    protected override Record? Apply(Record record)
    {
        var output = new Record(record.Count);
        foreach (var (name, value) in record)
        {
            if (!fields.Contains(name))
            {
                output[name] = value;
            }
        }
        return output;
    }
}
