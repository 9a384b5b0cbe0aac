using Acornima;
using Acornima.Ast;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// Compiles a JavaScript expression over <c>record</c>. Expressions in the common subset (field access, literals,
/// operators, template literals, pure string/number/array methods, Math, Number, String, parseFloat...) become
/// .NET code with JavaScript semantics; anything else runs in Jint's sandbox.
/// </summary>
public static class ExpressionCompiler
{
    public const int MaxNesting = 256;

    /// <summary>
    /// Returns null and an error such as "Unexpected token ')' at 1:14" (line:column, both 1-based) when the
    /// source is not a single JavaScript expression.
    /// </summary>
    public static CompiledExpression? TryCompile(string source, ExpressionLimits limits, out string? error)
    {
        if (!TryParse(source, limits, out var ast, out error))
        {
            return null;
        }
        var interpreted = new InterpretedExpression(source, limits);
        var root = new ExpressionTranslator(limits).Translate(ast);
        return root is null ? interpreted : new NativeExpression(source, limits, root, interpreted);
    }

    /// <summary>The same expression on the interpreter alone: the reference the compiled tier is tested against.</summary>
    internal static CompiledExpression? TryCompileInterpreted(string source, ExpressionLimits limits, out string? error) =>
        TryParse(source, limits, out _, out error) ? new InterpretedExpression(source, limits) : null;

    private static bool TryParse(string source, ExpressionLimits limits, out Expression ast, out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(limits);
        limits.Validate();
        ast = null!;

        try
        {
            ast = new Parser().ParseExpression(source, sourceFile: null, strict: true);
        }
        catch (ParseErrorException e)
        {
            error = DescribeSyntaxError(source, e);
            return false;
        }
        catch (InsufficientExecutionStackException)
        {
            error = $"The expression nests deeper than {MaxNesting} levels.";
            return false;
        }

        if (Depth(ast, 0) > MaxNesting)
        {
            error = $"The expression nests deeper than {MaxNesting} levels.";
            return false;
        }

        // Jint parses the parenthesized form it runs; make sure that is still exactly this one expression.
        try
        {
            var prepared = JintSandbox.Prepare(source, limits);
            if (prepared.Program?.Body is not [NonSpecialExpressionStatement])
            {
                error = "The expression must be a single JavaScript expression.";
                return false;
            }
        }
        catch (Exception e) when (e is ParseErrorException or Jint.JintException or ArgumentException)
        {
            error = e is ParseErrorException parse ? $"{parse.Description} at {parse.LineNumber - 1}:{parse.Column + 1}" : e.Message;
            return false;
        }

        error = null;
        return true;
    }

    private static string DescribeSyntaxError(string source, ParseErrorException e)
    {
        var position = $"{e.LineNumber}:{e.Column + 1}";
        try
        {
            var script = new Parser().ParseScript(source, sourceFile: null, strict: true);
            switch (script.Body.Count)
            {
                case 0:
                    return "The expression is empty.";
                case > 1:
                    var second = script.Body[1].Location.Start;
                    return $"An expression must be a single JavaScript expression, but this is {script.Body.Count} statements; the second starts at {second.Line}:{second.Column + 1}.";
                default:
                    if (script.Body[0] is not ExpressionStatement)
                    {
                        return $"An expression must be a single JavaScript expression, not a {script.Body[0].TypeText} ({e.Description} at {position}).";
                    }
                    break;
            }
        }
        catch (ParseErrorException)
        {
        }
        catch (InsufficientExecutionStackException)
        {
        }
        return $"{e.Description} at {position}";
    }

    private static int Depth(Node node, int depth)
    {
        if (depth > MaxNesting)
        {
            return depth;
        }
        var deepest = depth;
        foreach (var child in node.ChildNodes)
        {
            deepest = Math.Max(deepest, Depth(child, depth + 1));
            if (deepest > MaxNesting)
            {
                break;
            }
        }
        return deepest;
    }
}
