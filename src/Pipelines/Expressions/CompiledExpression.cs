using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>How an expression runs: compiled to .NET code, or interpreted by Jint in its sandbox.</summary>
public enum ExpressionTier
{
    Compiled,
    Interpreted,
}

/// <summary>A JavaScript expression over <c>record</c>, ready to run against many records from many threads.</summary>
public abstract class CompiledExpression
{
    private protected CompiledExpression(string source, ExpressionLimits limits)
    {
        Source = source;
        Limits = limits;
    }

    public string Source { get; }

    public ExpressionLimits Limits { get; }

    public abstract ExpressionTier Tier { get; }

    /// <summary>
    /// The expression's value as a record value: string, double, bool, null (also for undefined),
    /// <see cref="Record"/> or <see cref="List{T}"/>. Throws <see cref="ExpressionException"/> on a runtime error.
    /// </summary>
    public abstract object? Evaluate(Record record);

    /// <summary>Whether the value is truthy in JavaScript, for filters.</summary>
    public bool IsTrue(Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        return EvaluateTruth(record);
    }

    private protected abstract bool EvaluateTruth(Record record);

    public override string ToString() => Source;
}
