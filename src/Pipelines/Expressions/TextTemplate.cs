using System.Text;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// Text with <c>{{ expression }}</c> holes over <c>record</c> (prompts, URLs, bodies): strings are
/// inserted as they are, objects and arrays as compact JSON, null and undefined as nothing.
/// </summary>
public sealed class TextTemplate
{
    private readonly IReadOnlyList<object> _parts;

    private TextTemplate(string source, IReadOnlyList<object> parts)
    {
        Source = source;
        _parts = parts;
    }

    public string Source { get; }

    /// <returns>The template, or null with an error naming the hole that does not parse.</returns>
    public static TextTemplate? TryCompile(string source, out string? error)
    {
        var parts = new List<object>();
        var at = 0;
        while (at < source.Length)
        {
            var open = source.IndexOf("{{", at, StringComparison.Ordinal);
            if (open < 0)
            {
                parts.Add(source[at..]);
                break;
            }
            if (open > at)
            {
                parts.Add(source[at..open]);
            }
            var close = source.IndexOf("}}", open + 2, StringComparison.Ordinal);
            if (close < 0)
            {
                error = $"'{{{{' at character {open + 1} is never closed with '}}}}'";
                return null;
            }
            var expression = source[(open + 2)..close].Trim();
            if (expression.Length == 0)
            {
                error = $"'{{{{}}}}' at character {open + 1} is empty: put an expression inside, e.g. {{{{record.name}}}}";
                return null;
            }
            var compiled = ExpressionCompiler.TryCompile(expression, ExpressionLimits.Default, out var problem);
            if (compiled is null)
            {
                error = $"'{{{{{expression}}}}}' at character {open + 1}: {problem}";
                return null;
            }
            parts.Add(compiled);
            at = close + 2;
        }
        error = null;
        return new TextTemplate(source, parts);
    }

    /// <summary>The expressions' values, each turned into text by <paramref name="encode"/> (e.g. URL-encoding).</summary>
    public string Render(Record record, Func<string, string>? encode = null)
    {
        var text = new StringBuilder(Source.Length + 64);
        foreach (var part in _parts)
        {
            if (part is string literal)
            {
                text.Append(literal);
                continue;
            }
            var rendered = ToText(((CompiledExpression)part).Evaluate(record));
            text.Append(encode is null ? rendered : encode(rendered));
        }
        return text.ToString();
    }

    /// <summary>How a record value reads as text: strings as they are, objects and arrays as compact JSON, null as nothing.</summary>
    public static string ToText(object? value) => value switch
    {
        null => "",
        string s => s,
        Record or List<object?> => RecordJson.ValueToString(value),
        _ => JsSemantics.ToString(value),
    };
}
