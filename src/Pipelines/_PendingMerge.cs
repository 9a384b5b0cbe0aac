// Temporary stand-ins for the Formats and Expressions branches; deleted when they merge.
using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions
{
    public sealed record ExpressionLimits(TimeSpan Timeout, long MemoryBytes, int RecursionDepth) { public static ExpressionLimits Default { get; } = new(TimeSpan.FromMilliseconds(100), 4_000_000, 64); }
    public static class ExpressionCompiler { public static CompiledExpression? TryCompile(string source, ExpressionLimits limits, out string? error) => throw new NotImplementedException(); }
    public abstract class CompiledExpression
    {
        public string Source { get; } = "";
        public abstract object? Evaluate(Record record);
        public bool IsTrue(Record record) => throw new NotImplementedException();
    }
}
