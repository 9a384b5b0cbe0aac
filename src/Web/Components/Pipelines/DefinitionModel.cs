using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines.Definitions;

namespace Saas.Web.Components.Pipelines;

/// <summary>
/// The builder's one model: the pipeline definition as a JSON tree. The forms edit it in place, the JSON view
/// parses text back into it, and every change is validated by the engine's own <see cref="DefinitionParser"/>,
/// so the builder never accepts what publishing would refuse and keeps properties it has no form for.
/// </summary>
public sealed class DefinitionModel
{
    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private DefinitionModel(JsonObject root)
    {
        Root = root;
        Validate();
    }

    public JsonObject Root { get; private set; }

    public IReadOnlyList<DefinitionError> Errors { get; private set; } = [];

    /// <summary>Raised after every change, from a form or from the JSON view.</summary>
    public event Action? Changed;

    public static DefinitionModel New() => new(new JsonObject
    {
        ["name"] = "",
        ["trigger"] = new JsonObject { ["type"] = TriggerTypes.Upload, ["format"] = "csv" },
        ["steps"] = new JsonArray(),
        ["sink"] = new JsonObject { ["type"] = "blob", ["format"] = "jsonl" },
    });

    /// <summary>A stored definition (always a JSON object: it was validated when published).</summary>
    public static DefinitionModel Load(string json) =>
        new(JsonNode.Parse(json) as JsonObject ?? throw new ArgumentException("a definition is a JSON object", nameof(json)));

    public JsonObject Trigger => Object("trigger");

    /// <summary>Null when the definition leaves it out (the engine then writes JSON lines).</summary>
    public JsonObject? Sink => Root["sink"] as JsonObject;

    /// <summary>The sink, created as the default blob sink if the definition has none.</summary>
    public JsonObject EnsureSink() => Sink ?? (JsonObject)(Root["sink"] = new JsonObject { ["type"] = "blob" });

    public JsonArray Steps
    {
        get
        {
            if (Root["steps"] is not JsonArray steps)
            {
                steps = [];
                Root["steps"] = steps;
            }
            return steps;
        }
    }

    public JsonObject Step(int index) => (JsonObject)Steps[index]!;

    public string ToJson() => Root.ToJsonString(Indented);

    public string ToCompactJson() => Root.ToJsonString(new JsonSerializerOptions { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping });

    /// <summary>Replaces the whole definition from the JSON view.</summary>
    /// <returns>null, or why the text is not a JSON object (the model is then left as it was).</returns>
    public string? TryReplace(string json)
    {
        JsonNode? node;
        try
        {
            node = JsonNode.Parse(json, documentOptions: new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException error)
        {
            return $"not valid JSON{DefinitionParser.DescribeJsonError(error)}";
        }
        if (node is not JsonObject root)
        {
            return $"the definition must be a JSON object, found {Describe(node)}";
        }
        Root = root;
        Touch();
        return null;
    }

    /// <summary>Replaces one step from its JSON card; same contract as <see cref="TryReplace"/>.</summary>
    public string? TryReplaceStep(int index, string json) => TryReplaceObject(json, "step", node => Steps[index] = node);

    /// <summary>Replaces the sink from its JSON card (sink types without a form).</summary>
    public string? TryReplaceSink(string json) => TryReplaceObject(json, "sink", node => Root["sink"] = node);

    /// <summary>Call after editing <see cref="Root"/> in place: validates and tells the views.</summary>
    public void Touch()
    {
        Validate();
        Changed?.Invoke();
    }

    public static string? Text(JsonObject node, string name) =>
        node[name] is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    /// <summary>Sets a string property; null or empty removes it, so optional properties disappear instead of being "".</summary>
    public void SetText(JsonObject node, string name, string? value, bool keepEmpty = false)
    {
        if (string.IsNullOrEmpty(value) && !keepEmpty)
        {
            node.Remove(name);
        }
        else
        {
            node[name] = value ?? "";
        }
        Touch();
    }

    public void SetTriggerType(string type)
    {
        var trigger = new JsonObject { ["type"] = type };
        switch (type)
        {
            case TriggerTypes.Upload:
                trigger["format"] = "csv";
                break;
            case TriggerTypes.Queue:
                trigger["queue"] = "";
                break;
            case TriggerTypes.Schedule:
                trigger["cron"] = "0 6 * * *";
                trigger["timeZone"] = "UTC";
                break;
        }
        Root["trigger"] = trigger;
        Touch();
    }

    public void SetUploadFormat(string format)
    {
        Trigger["format"] = format;
        if (format != "csv")
        {
            Trigger.Remove("delimiter");
        }
        Touch();
    }

    public static bool IsDisabled(JsonObject step) => step["disabled"] is JsonValue value && value.TryGetValue<bool>(out var disabled) && disabled;

    public int AddStep(string type)
    {
        var step = new JsonObject { ["id"] = UniqueStepId(type), ["type"] = type };
        switch (type)
        {
            case "map":
                step["fields"] = new JsonObject { ["new_field"] = "" };
                break;
            case "filter":
                step["where"] = "";
                break;
            case "select" or "drop":
                step["fields"] = new JsonArray();
                break;
            case "rename":
                step["fields"] = new JsonObject();
                break;
        }
        Steps.Add(step);
        Touch();
        return Steps.Count - 1;
    }

    /// <returns>The step's new index (unchanged at either end).</returns>
    public int MoveStep(int index, int by)
    {
        var target = index + by;
        if (target < 0 || target >= Steps.Count)
        {
            return index;
        }
        var step = Steps[index]!;
        Steps.RemoveAt(index);
        Steps.Insert(target, step);
        Touch();
        return target;
    }

    public void RemoveStep(int index)
    {
        Steps.RemoveAt(index);
        Touch();
    }

    public void SetDisabled(int index, bool disabled)
    {
        if (disabled)
        {
            Step(index)["disabled"] = true;
        }
        else
        {
            Step(index).Remove("disabled");
        }
        Touch();
    }

    /// <summary>The name → value rows of an object property (map and rename fields), in order.</summary>
    public static IReadOnlyList<KeyValuePair<string, string>> Pairs(JsonObject step, string property) =>
        step[property] is JsonObject pairs
            ? pairs.Select(p => new KeyValuePair<string, string>(p.Key, p.Value is JsonValue v && v.TryGetValue<string>(out var s) ? s : p.Value?.ToJsonString() ?? "")).ToList()
            : [];

    /// <summary>Sets row <paramref name="row"/> of an object property, keeping the order of the others.</summary>
    /// <returns>null, or why the row's name cannot be used.</returns>
    public string? SetPair(JsonObject step, string property, int row, string name, string value)
    {
        var pairs = Pairs(step, property).ToList();
        if (pairs.Where((_, i) => i != row).Any(p => p.Key == name))
        {
            return $"another row already uses '{name}'";
        }
        if (row == pairs.Count)
        {
            pairs.Add(new(name, value));
        }
        else
        {
            pairs[row] = new(name, value);
        }
        step[property] = ToObject(pairs);
        Touch();
        return null;
    }

    public void RemovePair(JsonObject step, string property, int row)
    {
        var pairs = Pairs(step, property).ToList();
        pairs.RemoveAt(row);
        step[property] = ToObject(pairs);
        Touch();
    }

    /// <summary>Adds a row with a name no other row has (<paramref name="name"/>, or it with a number).</summary>
    public void AddPair(JsonObject step, string property, string name, string value)
    {
        var pairs = Pairs(step, property).ToList();
        var unique = name;
        for (var n = 2; pairs.Any(p => p.Key == unique); n++)
        {
            unique = $"{name}_{n}";
        }
        pairs.Add(new(unique, value));
        step[property] = ToObject(pairs);
        Touch();
    }

    /// <summary>The names of a list property (select and drop fields).</summary>
    public static IReadOnlyList<string> Names(JsonObject step, string property) =>
        step[property] is JsonArray names
            ? names.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : n?.ToJsonString() ?? "").ToList()
            : [];

    public void SetNames(JsonObject step, string property, IEnumerable<string> names)
    {
        step[property] = new JsonArray(names.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray());
        Touch();
    }

    /// <summary>The errors that belong exactly to a path, e.g. <c>steps[1].fields.total</c>.</summary>
    public IEnumerable<DefinitionError> ErrorsAt(string path) => Errors.Where(e => e.Path == path);

    /// <summary>The errors at a path or anywhere below it.</summary>
    public IEnumerable<DefinitionError> ErrorsUnder(string path) =>
        Errors.Where(e => e.Path == path || e.Path.StartsWith(path + ".", StringComparison.Ordinal) || e.Path.StartsWith(path + "[", StringComparison.Ordinal));

    private string? TryReplaceObject(string json, string what, Action<JsonObject> replace)
    {
        try
        {
            if (JsonNode.Parse(json) is not JsonObject node)
            {
                return $"a {what} must be a JSON object";
            }
            replace(node);
        }
        catch (JsonException error)
        {
            return $"not valid JSON{DefinitionParser.DescribeJsonError(error)}";
        }
        Touch();
        return null;
    }

    private JsonObject Object(string name)
    {
        if (Root[name] is not JsonObject value)
        {
            value = [];
            Root[name] = value;
        }
        return value;
    }

    private string UniqueStepId(string type)
    {
        var ids = Steps.OfType<JsonObject>().Select(s => Text(s, "id")).ToHashSet(StringComparer.Ordinal);
        var prefix = new string(type.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_').ToArray());
        prefix = prefix.Length == 0 ? "step" : prefix;
        for (var n = 1; ; n++)
        {
            var id = $"{prefix}{n}";
            if (!ids.Contains(id))
            {
                return id;
            }
        }
    }

    private static JsonObject ToObject(IEnumerable<KeyValuePair<string, string>> pairs)
    {
        var node = new JsonObject();
        foreach (var (name, value) in pairs)
        {
            node[name] = value;
        }
        return node;
    }

    private static string Describe(JsonNode? node) => node switch
    {
        null => "null",
        JsonArray => "an array",
        JsonValue value => value.GetValueKind() switch
        {
            JsonValueKind.String => "a string",
            JsonValueKind.Number => "a number",
            _ => "a boolean",
        },
        _ => "something else",
    };

    private void Validate() => Errors = DefinitionParser.Parse(ToCompactJson()).Errors;
}
