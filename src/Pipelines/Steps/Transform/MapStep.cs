using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Transform;

/// <summary><c>fields</c>: name → expression. Adds or replaces those fields; every expression sees the input record.</summary>
public sealed class MapStep(IReadOnlyList<KeyValuePair<string, CompiledExpression>> fields) : PerRecordStep
{
    internal static IStep? Compile(JsonObjectReader step)
    {
        var fields = ExpressionFields.Compile(step, "fields");
        return fields is null ? null : new MapStep(fields);
    }

    protected override Record? Apply(Record record)
    {
        var output = new Record(record.Count + fields.Count);
        foreach (var (name, value) in record)
        {
            output[name] = value;
        }
        foreach (var (name, expression) in fields)
        {
            output[name] = expression.Evaluate(record);
        }
        return output;
    }
}

internal static class ExpressionFields
{
    public static IReadOnlyList<KeyValuePair<string, CompiledExpression>>? Compile(JsonObjectReader step, string property)
    {
        var compiled = new List<KeyValuePair<string, CompiledExpression>>();
        var ok = true;
        foreach (var (name, source) in step.StringMap(property, "JavaScript expression over `record`"))
        {
            var expression = CompileOne(step, $"{step.At(property)}.{name}", source);
            if (expression is null)
            {
                ok = false;
            }
            else
            {
                compiled.Add(new(name, expression));
            }
        }
        return ok && compiled.Count > 0 ? compiled : null;
    }

    public static CompiledExpression? CompileOne(JsonObjectReader step, string path, string source)
    {
        if (string.IsNullOrWhiteSpace(source))
        {
            step.Error(path, "expression is empty (write JavaScript over `record`, e.g. record.qty * record.price)");
            return null;
        }
        var expression = ExpressionCompiler.TryCompile(source, ExpressionLimits.Default, out var error);
        if (expression is null)
        {
            step.Error(path, $"expression does not parse: {error}");
        }
        return expression;
    }
}
