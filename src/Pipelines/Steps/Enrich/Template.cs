using System.Text;
using System.Text.RegularExpressions;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Records;
using Saas.Pipelines.Secrets;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>
/// A <see cref="TextTemplate"/> (<c>{{record.id}}</c> holes over <c>record</c>) that may also name tenant secrets,
/// <c>{{secrets.name}}</c>, resolved when the step runs and never stored in the definition.
/// </summary>
internal sealed partial class Template
{
    private readonly IReadOnlyList<object> _parts;

    private Template(IReadOnlyList<object> parts, string source)
    {
        _parts = parts;
        var open = source.IndexOf("{{", StringComparison.Ordinal);
        Prefix = open < 0 ? source : source[..open];
    }

    private sealed record Secret(string Name);

    public IEnumerable<string> SecretNames => _parts.OfType<Secret>().Select(s => s.Name);

    /// <summary>The literal text before the first hole (where a URL's scheme and host must be).</summary>
    public string Prefix { get; }

    /// <summary>The expression when the text is exactly one <c>{{...}}</c> hole: a JSON body puts its typed value there.</summary>
    public CompiledExpression? Whole { get; private init; }

    public static Template? Compile(JsonObjectReader step, string path, string source, bool allowSecrets)
    {
        var parts = new List<object>();
        var ok = true;
        var at = 0;
        foreach (Match match in SecretHole().Matches(source))
        {
            ok &= AddText(source[at..match.Index]);
            at = match.Index + match.Length;
            var name = match.Groups[1].Value;
            if (!allowSecrets)
            {
                step.Error(path, $"{match.Value}: secrets may be used in headers and the body only, never in the URL (URLs appear in logs and errors)");
                ok = false;
            }
            else if (!TenantSecrets.IsValidName(name))
            {
                step.Error(path, $"{match.Value}: '{name}' is not a secret name ({TenantSecrets.NameRule})");
                ok = false;
            }
            else
            {
                parts.Add(new Secret(name));
            }
        }
        ok &= AddText(source[at..]);
        if (!ok)
        {
            return null;
        }
        var whole = OneHole().Match(source);
        return new Template(parts, source)
        {
            Whole = whole.Success && parts is [TextTemplate] ? ExpressionCompiler.TryCompile(whole.Groups[1].Value.Trim(), ExpressionLimits.Default, out _) : null,
        };

        bool AddText(string text)
        {
            if (text.Length == 0)
            {
                return true;
            }
            var template = TextTemplate.TryCompile(text, out var error);
            if (template is null)
            {
                step.Error(path, error!);
                return false;
            }
            parts.Add(template);
            return true;
        }
    }

    /// <param name="encode">Applied to every value taken from the record (URL-encoding in a URL), never to literals or secrets.</param>
    public string Render(Record record, Func<string, string> secret, Func<string, string>? encode = null)
    {
        if (_parts is [TextTemplate only])
        {
            return only.Render(record, encode);
        }
        var text = new StringBuilder();
        foreach (var part in _parts)
        {
            text.Append(part is Secret named ? secret(named.Name) : ((TextTemplate)part).Render(record, encode));
        }
        return text.ToString();
    }

    [GeneratedRegex(@"\{\{\s*secrets\.([^}]*?)\s*\}\}")]
    private static partial Regex SecretHole();

    [GeneratedRegex(@"^\{\{((?:(?!\{\{|\}\}).)+)\}\}$", RegexOptions.Singleline)]
    private static partial Regex OneHole();
}
