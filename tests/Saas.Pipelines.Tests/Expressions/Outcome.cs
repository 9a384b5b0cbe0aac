using System.Globalization;
using Saas.Pipelines.Expressions;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Expressions;

/// <summary>What an evaluation came to, as text that tells -0 from 0 and a string from a number.</summary>
internal static class Outcome
{
    public const string Deferred = "(deferred to the interpreter)";

    public static string Of(Func<object?> evaluate)
    {
        try
        {
            return Show(evaluate());
        }
        catch (ExpressionException e)
        {
            return "error: " + e.Message;
        }
    }

    public static string Show(object? value) => value switch
    {
        null => "null",
        string s => "\"" + s + "\"",
        double d when d == 0 && double.IsNegative(d) => "-0",
        double d => d.ToString("R", CultureInfo.InvariantCulture),
        bool b => b ? "true" : "false",
        Record r => "{" + string.Join(", ", r.Select(kv => kv.Key + ": " + Show(kv.Value))) + "}",
        List<object?> l => "[" + string.Join(", ", l.Select(Show)) + "]",
        _ => $"<{value.GetType().Name}: {value}>",
    };

    public static CompiledExpression Compile(string source, ExpressionLimits? limits = null) =>
        ExpressionCompiler.TryCompile(source, limits ?? ExpressionLimits.Default, out var error)
        ?? throw new InvalidOperationException($"'{source}' did not compile: {error}");

    public static CompiledExpression Interpreted(string source) =>
        ExpressionCompiler.TryCompileInterpreted(source, ExpressionLimits.Default, out var error)
        ?? throw new InvalidOperationException($"'{source}' did not compile: {error}");
}
