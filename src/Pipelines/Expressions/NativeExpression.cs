using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// An expression compiled to .NET. It answers on its own for the records it models exactly and hands any
/// other record (an error, an unusual value) to the interpreted form, whose answer is then the answer.
/// </summary>
internal sealed class NativeExpression(string source, ExpressionLimits limits, CompiledNode root, InterpretedExpression interpreted)
    : CompiledExpression(source, limits)
{
    public override ExpressionTier Tier => ExpressionTier.Compiled;

    public override object? Evaluate(Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        try
        {
            return JsSemantics.ToRecordValue(root.Evaluate(record));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // InterpreterRequiredException by design; anything else would be a gap in the compiled tier,
            // and the interpreter is the reference either way.
            return interpreted.Evaluate(record);
        }
    }

    private protected override bool EvaluateTruth(Record record)
    {
        try
        {
            return root.EvaluateTruth(record);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return interpreted.IsTrue(record);
        }
    }

    /// <summary>The compiled tier alone: false where it would defer to the interpreter. For tests and benchmarks.</summary>
    internal bool TryEvaluateCompiled(Record record, out object? value)
    {
        try
        {
            value = JsSemantics.ToRecordValue(root.Evaluate(record));
            return true;
        }
        catch (InterpreterRequiredException)
        {
            value = null;
            return false;
        }
    }

    internal bool TryIsTrueCompiled(Record record, out bool value)
    {
        try
        {
            value = root.EvaluateTruth(record);
            return true;
        }
        catch (InterpreterRequiredException)
        {
            value = false;
            return false;
        }
    }
}
