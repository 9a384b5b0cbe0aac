using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Transform;

/// <summary><c>where</c>: expression. Keeps the records for which it is truthy.</summary>
public sealed class FilterStep(CompiledExpression where) : PerRecordStep
{
    internal static IStep? Compile(JsonObjectReader step)
    {
        var source = step.String("where", required: true, "a JavaScript condition over `record`, e.g. record.total > 100");
        if (source is null)
        {
            return null;
        }
        var where = ExpressionFields.CompileOne(step, step.At("where"), source);
        return where is null ? null : new FilterStep(where);
    }

    protected override Record? Apply(Record record) => where.IsTrue(record) ? record : null;
}
