using System.Buffers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Secrets;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>
/// Text with placeholders: <c>{{record.id}}</c> (any JavaScript expression over <c>record</c>) and, where
/// allowed, <c>{{secrets.name}}</c> (a tenant secret, resolved when the step runs, never stored in the definition).
/// </summary>
internal sealed partial class Template
{
    private readonly IReadOnlyList<Part> _parts;

    private Template(IReadOnlyList<Part> parts) => _parts = parts;

    private abstract record Part;

    private sealed record Literal(string Text) : Part;

    private sealed record Value(CompiledExpression Expression) : Part;

    private sealed record Secret(string Name) : Part;

    public IEnumerable<string> SecretNames => _parts.OfType<Secret>().Select(s => s.Name);

    public bool IsConstant => _parts.All(p => p is Literal);

    /// <summary>The literal text before the first placeholder.</summary>
    public string Prefix => _parts is [Literal first, ..] ? first.Text : "";

    /// <summary>The single expression when the text is exactly one <c>{{...}}</c> (a typed value in a JSON body).</summary>
    public CompiledExpression? Whole => _parts is [Value only] ? only.Expression : null;

    public static Template? Compile(JsonObjectReader step, string path, string source, bool allowSecrets)
    {
        var parts = new List<Part>();
        var ok = true;
        var at = 0;
        foreach (Match match in Placeholder().Matches(source))
        {
            if (match.Index > at)
            {
                parts.Add(new Literal(source[at..match.Index]));
            }
            at = match.Index + match.Length;
            var inner = match.Groups[1].Value.Trim();
            if (inner.StartsWith("secrets.", StringComparison.Ordinal))
            {
                var name = inner["secrets.".Length..];
                if (!allowSecrets)
                {
                    step.Error(path, $"{{{{{inner}}}}}: secrets may be used in headers and the body only, never in the URL (URLs appear in logs and errors)");
                    ok = false;
                }
                else if (!TenantSecrets.IsValidName(name))
                {
                    step.Error(path, $"{{{{{inner}}}}}: '{name}' is not a secret name ({TenantSecrets.NameRule})");
                    ok = false;
                }
                else
                {
                    parts.Add(new Secret(name));
                }
                continue;
            }
            var expression = Transform.ExpressionFields.CompileOne(step, path, inner);
            if (expression is null)
            {
                ok = false;
            }
            else
            {
                parts.Add(new Value(expression));
            }
        }
        if (source.IndexOf("{{", at, StringComparison.Ordinal) >= 0)
        {
            step.Error(path, "has a '{{' without its closing '}}'");
            ok = false;
        }
        if (at < source.Length)
        {
            parts.Add(new Literal(source[at..]));
        }
        return ok ? new Template(parts) : null;
    }

    /// <param name="encode">Applied to every value taken from the record (URL-encoding in a URL), never to literals or secrets.</param>
    public string Render(Record record, Func<string, string> secret, Func<string, string>? encode = null)
    {
        if (_parts is [Literal only])
        {
            return only.Text;
        }
        var text = new StringBuilder();
        foreach (var part in _parts)
        {
            switch (part)
            {
                case Literal literal:
                    text.Append(literal.Text);
                    break;
                case Secret named:
                    text.Append(secret(named.Name));
                    break;
                case Value value:
                    var rendered = AsText(value.Expression.Evaluate(record));
                    text.Append(encode is null ? rendered : encode(rendered));
                    break;
            }
        }
        return text.ToString();
    }

    /// <summary>How a value reads inside text: strings as they are, numbers as JavaScript prints them, null as nothing, objects as JSON.</summary>
    public static string AsText(object? value) => value switch
    {
        null => "",
        string s => s,
        double d => JsNumberText.Format(d),
        bool b => b ? "true" : "false",
        _ => ToJson(value),
    };

    private static string ToJson(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            RecordJson.WriteValue(writer, value);
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    [GeneratedRegex(@"\{\{(.*?)\}\}", RegexOptions.Singleline)]
    private static partial Regex Placeholder();
}
