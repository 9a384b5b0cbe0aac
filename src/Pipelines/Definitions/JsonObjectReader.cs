using System.Text.Json;

namespace Saas.Pipelines.Definitions;

/// <summary>
/// Reads one JSON object of a definition, collecting every problem with its path instead of
/// stopping at the first, and reporting properties nobody asked for (usually typos).
/// </summary>
internal sealed class JsonObjectReader
{
    private readonly HashSet<string> _read = new(StringComparer.Ordinal);

    public JsonObjectReader(JsonElement element, string path, List<DefinitionError> errors)
    {
        Element = element;
        Path = path;
        Errors = errors;
        IsObject = element.ValueKind == JsonValueKind.Object;
        if (!IsObject)
        {
            Error(path, $"must be an object, found {Describe(element)}");
        }
    }

    public JsonElement Element { get; }
    public string Path { get; }
    public List<DefinitionError> Errors { get; }
    public bool IsObject { get; }

    public string At(string name) => Path.Length == 0 ? name : $"{Path}.{name}";

    public void Error(string path, string message) => Errors.Add(new DefinitionError(path, message));

    public JsonElement? Property(string name)
    {
        _read.Add(name);
        return IsObject && Element.TryGetProperty(name, out var value) && value.ValueKind != JsonValueKind.Null ? value : null;
    }

    public string? String(string name, bool required, string? hint = null)
    {
        var value = Property(name);
        if (value is null)
        {
            if (required && IsObject)
            {
                Error(At(name), "is required" + (hint is null ? "" : $" ({hint})"));
            }
            return null;
        }
        if (value.Value.ValueKind != JsonValueKind.String)
        {
            Error(At(name), $"must be a string, found {Describe(value.Value)}");
            return null;
        }
        var text = value.Value.GetString()!;
        if (required && string.IsNullOrWhiteSpace(text))
        {
            Error(At(name), "must not be empty" + (hint is null ? "" : $" ({hint})"));
            return null;
        }
        return text;
    }

    public string? OneOf(string name, IReadOnlyCollection<string> allowed, bool required, string? fallback = null)
    {
        var text = String(name, required, $"one of {string.Join(", ", allowed.Select(a => $"'{a}'"))}");
        if (text is null)
        {
            return fallback;
        }
        if (!allowed.Contains(text))
        {
            Error(At(name), $"'{text}' is not one of {string.Join(", ", allowed.Select(a => $"'{a}'"))}");
            return null;
        }
        return text;
    }

    public int Int(string name, int fallback, int min, int max)
    {
        var value = Property(name);
        if (value is null)
        {
            return fallback;
        }
        if (value.Value.ValueKind != JsonValueKind.Number || !value.Value.TryGetInt32(out var number))
        {
            Error(At(name), $"must be a whole number, found {Describe(value.Value)}");
            return fallback;
        }
        if (number < min || number > max)
        {
            Error(At(name), $"must be between {min} and {max}, found {number}");
            return fallback;
        }
        return number;
    }

    public bool Bool(string name, bool fallback)
    {
        var value = Property(name);
        if (value is null)
        {
            return fallback;
        }
        if (value.Value.ValueKind is not (JsonValueKind.True or JsonValueKind.False))
        {
            Error(At(name), $"must be true or false, found {Describe(value.Value)}");
            return fallback;
        }
        return value.Value.GetBoolean();
    }

    public char Delimiter(string name)
    {
        var text = String(name, required: false);
        if (text is null)
        {
            return ',';
        }
        var delimiter = text == "\\t" ? "\t" : text;
        if (delimiter.Length != 1 || !Formats.CsvDelimiters.IsSupported(delimiter[0]))
        {
            Error(At(name), $"must be one of ',', ';', '|' or '\\t', found '{text}'");
            return ',';
        }
        return delimiter[0];
    }

    /// <summary>A non-empty object whose values are strings: field name → text.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> StringMap(string name, string valueMeaning)
    {
        var value = Property(name);
        var path = At(name);
        if (value is null)
        {
            if (IsObject)
            {
                Error(path, $"is required: an object of field name → {valueMeaning}");
            }
            return [];
        }
        if (value.Value.ValueKind != JsonValueKind.Object)
        {
            Error(path, $"must be an object of field name → {valueMeaning}, found {Describe(value.Value)}");
            return [];
        }
        var entries = new List<KeyValuePair<string, string>>();
        foreach (var property in value.Value.EnumerateObject())
        {
            if (property.Name.Length == 0)
            {
                Error(path, "field names must not be empty");
            }
            else if (property.Value.ValueKind != JsonValueKind.String)
            {
                Error($"{path}.{property.Name}", $"must be a string ({valueMeaning}), found {Describe(property.Value)}");
            }
            else
            {
                entries.Add(new(property.Name, property.Value.GetString()!));
            }
        }
        if (!value.Value.EnumerateObject().Any())
        {
            Error(path, $"must name at least one field");
        }
        return entries;
    }

    /// <summary>A non-empty array of field names.</summary>
    public IReadOnlyList<string> FieldList(string name)
    {
        var value = Property(name);
        var path = At(name);
        if (value is null)
        {
            if (IsObject)
            {
                Error(path, "is required: an array of field names");
            }
            return [];
        }
        if (value.Value.ValueKind != JsonValueKind.Array)
        {
            Error(path, $"must be an array of field names, found {Describe(value.Value)}");
            return [];
        }
        var fields = new List<string>();
        var index = 0;
        foreach (var item in value.Value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(item.GetString()))
            {
                Error($"{path}[{index}]", $"must be a non-empty field name, found {Describe(item)}");
            }
            else
            {
                fields.Add(item.GetString()!);
            }
            index++;
        }
        if (index == 0)
        {
            Error(path, "must name at least one field");
        }
        return fields;
    }

    /// <summary>Reports properties that no reader asked for, suggesting the closest known name.</summary>
    public void RejectUnknownProperties()
    {
        if (!IsObject)
        {
            return;
        }
        foreach (var property in Element.EnumerateObject())
        {
            if (_read.Contains(property.Name))
            {
                continue;
            }
            var suggestion = _read.MinBy(known => EditDistance(known, property.Name));
            var hint = suggestion is not null && EditDistance(suggestion, property.Name) <= 2 ? $"; did you mean '{suggestion}'?" : $"; known properties: {string.Join(", ", _read.Order())}";
            Error(At(property.Name), $"unknown property{hint}");
        }
    }

    public static string Describe(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.String => $"the string \"{Truncate(element.GetString()!)}\"",
        JsonValueKind.Number => $"the number {element.GetRawText()}",
        JsonValueKind.True or JsonValueKind.False => element.GetRawText(),
        JsonValueKind.Array => "an array",
        JsonValueKind.Object => "an object",
        _ => "null",
    };

    private static string Truncate(string text) => text.Length <= 40 ? text : text[..40] + "…";

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }
        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = char.ToLowerInvariant(a[i - 1]) == char.ToLowerInvariant(b[j - 1]) ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
