using Saas.Pipelines.Definitions;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Transform;

/// <summary><c>fields</c>: names to keep, in that order. Fields a record lacks are left out.</summary>
public sealed class SelectStep(IReadOnlyList<string> fields) : PerRecordStep
{
    internal static IStep? Compile(JsonObjectReader step)
    {
        var fields = step.FieldList("fields");
        return fields.Count == 0 ? null : new SelectStep(fields);
    }

    protected override Record? Apply(Record record)
    {
        var output = new Record(fields.Count);
        foreach (var name in fields)
        {
            if (record.TryGetValue(name, out var value))
            {
                output[name] = value;
            }
        }
        return output;
    }
}
