using Acornima.Ast;
using Jint;
using Jint.Runtime;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>An expression run by Jint in a <see cref="JintSandbox"/>: full JavaScript, slower.</summary>
internal sealed class InterpretedExpression : CompiledExpression
{
    private readonly ThreadLocal<JintSandbox?> _sandboxes;
    // Each thread prepares its own copy: Jint caches interpreter state on the prepared tree as it runs.
    private readonly ThreadLocal<Prepared<Script>> _prepared;

    public InterpretedExpression(string source, ExpressionLimits limits)
        : base(source, limits)
    {
        _sandboxes = JintSandbox.PoolFor(limits);
        _prepared = new ThreadLocal<Prepared<Script>>(() => JintSandbox.Prepare(source, limits));
    }

    public override ExpressionTier Tier => ExpressionTier.Interpreted;

    public override object? Evaluate(Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return JintValues.ToRecordValue(Run(record));
    }

    private protected override bool EvaluateTruth(Record record) => TypeConverter.ToBoolean(Run(record));

    private Jint.Native.JsValue Run(Record record) =>
        JintSandbox.For(_sandboxes, Limits).Run(_prepared.Value, record);
}
