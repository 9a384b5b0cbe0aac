using System.Text;
using System.Text.Json;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>
/// An HTTP body: a JSON value whose strings are templates (a string that is exactly <c>"{{expr}}"</c>
/// becomes the expression's typed value, so numbers stay numbers), or a text template sent as it renders.
/// </summary>
internal sealed class BodyTemplate
{
    private readonly Node? _json;
    private readonly Template? _text;

    private BodyTemplate(Node? json, Template? text) => (_json, _text) = (json, text);

    private abstract record Node;

    private sealed record ObjectNode(IReadOnlyList<(string Name, Node Value)> Properties) : Node;

    private sealed record ArrayNode(IReadOnlyList<Node> Items) : Node;

    private sealed record TextNode(Template Template) : Node;

    private sealed record RawNode(JsonElement Value) : Node;

    public bool IsJson => _json is not null;

    public IEnumerable<string> SecretNames => _text?.SecretNames ?? Templates(_json!).SelectMany(t => t.SecretNames);

    public static BodyTemplate? Compile(JsonObjectReader step, string path, JsonElement body)
    {
        if (body.ValueKind == JsonValueKind.String)
        {
            var text = Template.Compile(step, path, body.GetString()!, allowSecrets: true);
            return text is null ? null : new BodyTemplate(null, text);
        }
        var ok = true;
        var json = CompileNode(step, path, body, ref ok);
        return ok ? new BodyTemplate(json, null) : null;
    }

    private static Node CompileNode(JsonObjectReader step, string path, JsonElement element, ref bool ok)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                var properties = new List<(string, Node)>();
                foreach (var property in element.EnumerateObject())
                {
                    properties.Add((property.Name, CompileNode(step, $"{path}.{property.Name}", property.Value, ref ok)));
                }
                return new ObjectNode(properties);
            case JsonValueKind.Array:
                var items = new List<Node>();
                var index = 0;
                foreach (var item in element.EnumerateArray())
                {
                    items.Add(CompileNode(step, $"{path}[{index++}]", item, ref ok));
                }
                return new ArrayNode(items);
            case JsonValueKind.String:
                var template = Template.Compile(step, path, element.GetString()!, allowSecrets: true);
                ok &= template is not null;
                return template is null ? new RawNode(element.Clone()) : new TextNode(template);
            default:
                return new RawNode(element.Clone());
        }
    }

    public byte[] Render(Record record, Func<string, string> secret)
    {
        if (_text is not null)
        {
            return Encoding.UTF8.GetBytes(_text.Render(record, secret));
        }
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            Write(writer, _json!, record, secret);
        }
        return stream.ToArray();
    }

    private static void Write(Utf8JsonWriter writer, Node node, Record record, Func<string, string> secret)
    {
        switch (node)
        {
            case ObjectNode obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj.Properties)
                {
                    writer.WritePropertyName(name);
                    Write(writer, value, record, secret);
                }
                writer.WriteEndObject();
                break;
            case ArrayNode array:
                writer.WriteStartArray();
                foreach (var item in array.Items)
                {
                    Write(writer, item, record, secret);
                }
                writer.WriteEndArray();
                break;
            case TextNode { Template.Whole: { } whole }:
                RecordJson.WriteValue(writer, whole.Evaluate(record));
                break;
            case TextNode text:
                writer.WriteStringValue(text.Template.Render(record, secret));
                break;
            case RawNode raw:
                raw.Value.WriteTo(writer);
                break;
        }
    }

    private static IEnumerable<Template> Templates(Node node) => node switch
    {
        ObjectNode obj => obj.Properties.SelectMany(p => Templates(p.Value)),
        ArrayNode array => array.Items.SelectMany(Templates),
        TextNode text => [text.Template],
        _ => [],
    };
}
