using System.Buffers;
using System.Collections;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats;

/// <summary>Converts records to and from JSON with <see cref="Utf8JsonReader"/> and <see cref="Utf8JsonWriter"/>.</summary>
public static class RecordJson
{
    private const double MaxExactInteger = 9007199254740992d;

    // Pipeline output is data, never embedded in HTML, so non-ASCII text stays readable and compact.
    internal static readonly JsonWriterOptions WriterOptions = new()
    {
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = true,
    };

    internal static readonly JsonReaderOptions ReaderOptions = new() { MaxDepth = 128 };

    public static void Write(Utf8JsonWriter writer, Record record)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(record);
        WriteObject(writer, record, names: null);
    }

    internal static void Write(Utf8JsonWriter writer, Record record, EncodedNameCache names) =>
        WriteObject(writer, record, names);

    /// <summary>
    /// Reads the object the reader is positioned on, leaving it on the object's end; numbers become
    /// <see cref="double"/>. The whole object must be in the reader's buffer.
    /// </summary>
    public static Record Read(ref Utf8JsonReader reader) => Read(ref reader, names: null);

    /// <summary>Parses one JSON object; a malformed one throws <see cref="MalformedInputException"/>.</summary>
    public static Record Parse(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                throw new MalformedInputException(1, reader.TokenStartIndex + 1,
                    $"expected a JSON object but found {JsonErrors.Describe(reader.TokenType)}");
            }
            var record = Read(ref reader);
            if (reader.Read())
            {
                throw new MalformedInputException(1, reader.TokenStartIndex + 1, "unexpected content after the JSON object");
            }
            return record;
        }
        catch (JsonException e)
        {
            throw JsonErrors.ToMalformedInput(e, lineOffset: 0);
        }
    }

    /// <summary>Parses any JSON value (an HTTP answer): object, array, string, number, true, false or null.</summary>
    /// <exception cref="JsonException">The text is not one JSON value.</exception>
    public static object? ParseValue(ReadOnlySpan<byte> utf8Json)
    {
        var reader = new Utf8JsonReader(utf8Json, ReaderOptions);
        if (!reader.Read())
        {
            throw new JsonException("empty");
        }
        var value = ReadValue(ref reader);
        if (reader.Read())
        {
            throw new JsonException("unexpected content after the JSON value");
        }
        return value;
    }

    /// <summary>Writes one record value (string, double, bool, null, record or list) as JSON.</summary>
    public static void WriteValue(Utf8JsonWriter writer, object? value) => WriteValue(writer, value, "value");

    public static byte[] ToUtf8(Record record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var buffer = new ArrayBufferWriter<byte>(256);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteObject(writer, record, names: null);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A JSON value as a record value: objects become records, arrays lists, numbers doubles.</summary>
    public static object? ValueFromJson(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => element.EnumerateObject().Aggregate(new Record(), (record, property) => { record[property.Name] = ValueFromJson(property.Value); return record; }),
        JsonValueKind.Array => element.EnumerateArray().Select(ValueFromJson).ToList(),
        JsonValueKind.String => element.GetString(),
        JsonValueKind.Number => element.GetDouble(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => null,
    };

    /// <summary>Any record value (a nested record, a list, a scalar) as compact JSON.</summary>
    public static string ValueToString(object? value)
    {
        var buffer = new ArrayBufferWriter<byte>(128);
        using (var writer = new Utf8JsonWriter(buffer, WriterOptions))
        {
            WriteValue(writer, value, field: "");
        }
        return System.Text.Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    internal static Record Read(ref Utf8JsonReader reader, PropertyNameCache? names)
    {
        if (reader.TokenType != JsonTokenType.StartObject)
        {
            throw new RecordException($"expected a JSON object but found {JsonErrors.Describe(reader.TokenType)}");
        }
        var record = new Record(names?.LastFieldCount ?? 0);
        var ordinal = 0;
        while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
        {
            var name = names is null ? reader.GetString()! : names.Get(ref reader, ordinal);
            reader.Read();
            record[name] = ReadValue(ref reader);
            ordinal++;
        }
        EnsureComplete(ref reader, JsonTokenType.EndObject);
        if (names is not null)
        {
            names.LastFieldCount = ordinal;
        }
        return record;
    }

    private static object? ReadValue(ref Utf8JsonReader reader) => reader.TokenType switch
    {
        JsonTokenType.String => reader.GetString(),
        JsonTokenType.Number => ReadNumber(ref reader),
        JsonTokenType.True => true,
        JsonTokenType.False => false,
        JsonTokenType.Null => null,
        JsonTokenType.StartObject => Read(ref reader, names: null),
        JsonTokenType.StartArray => ReadList(ref reader),
        _ => throw new RecordException($"unexpected JSON token {reader.TokenType}"),
    };

    // Integers parse several times faster than doubles and most numbers in data are integers.
    private static double ReadNumber(ref Utf8JsonReader reader) =>
        reader.TryGetInt64(out var integer) ? integer : reader.GetDouble();

    private static List<object?> ReadList(ref Utf8JsonReader reader)
    {
        var list = new List<object?>();
        while (reader.Read() && reader.TokenType != JsonTokenType.EndArray)
        {
            list.Add(ReadValue(ref reader));
        }
        EnsureComplete(ref reader, JsonTokenType.EndArray);
        return list;
    }

    // A reader over a partial buffer runs out of tokens instead of throwing.
    private static void EnsureComplete(ref Utf8JsonReader reader, JsonTokenType end)
    {
        if (reader.TokenType != end)
        {
            throw new RecordException("the JSON value is incomplete: the reader's buffer must hold the whole object");
        }
    }

    private static void WriteObject(Utf8JsonWriter writer, Record record, EncodedNameCache? names)
    {
        writer.WriteStartObject();
        var ordinal = 0;
        foreach (var (name, value) in record)
        {
            if (names is null)
            {
                writer.WritePropertyName(name);
            }
            else
            {
                writer.WritePropertyName(names.Get(name, ordinal++));
            }
            WriteValue(writer, value, name);
        }
        writer.WriteEndObject();
    }

    private static void WriteObject(Utf8JsonWriter writer, IEnumerable<KeyValuePair<string, object?>> fields)
    {
        writer.WriteStartObject();
        foreach (var (name, value) in fields)
        {
            writer.WritePropertyName(name);
            WriteValue(writer, value, name);
        }
        writer.WriteEndObject();
    }

    private static void WriteValue(Utf8JsonWriter writer, object? value, string field)
    {
        switch (value)
        {
            case string s:
                writer.WriteStringValue(s);
                break;
            case double d:
                WriteNumber(writer, d);
                break;
            case bool b:
                writer.WriteBooleanValue(b);
                break;
            case null:
                writer.WriteNullValue();
                break;
            case Record nested:
                WriteObject(writer, nested, names: null);
                break;
            case List<object?> list:
                writer.WriteStartArray();
                foreach (var item in list)
                {
                    WriteValue(writer, item, field);
                }
                writer.WriteEndArray();
                break;
            default:
                WriteOtherValue(writer, value, field);
                break;
        }
    }

    // Steps may hand back CLR values that are not one of the record value types; write the obvious JSON for them.
    private static void WriteOtherValue(Utf8JsonWriter writer, object value, string field)
    {
        switch (value)
        {
            case int or long or short or byte or sbyte or ushort or uint:
                writer.WriteNumberValue(Convert.ToInt64(value, CultureInfo.InvariantCulture));
                break;
            case ulong u:
                writer.WriteNumberValue(u);
                break;
            case float f:
                WriteNumber(writer, f);
                break;
            case decimal m:
                writer.WriteNumberValue(m);
                break;
            case char c:
                writer.WriteStringValue([c]);
                break;
            case DateTimeOffset dto:
                writer.WriteStringValue(dto);
                break;
            case DateTime dt:
                writer.WriteStringValue(dt);
                break;
            case Guid g:
                writer.WriteStringValue(g);
                break;
            case IEnumerable<KeyValuePair<string, object?>> fields:
                WriteObject(writer, fields);
                break;
            case IEnumerable items:
                writer.WriteStartArray();
                foreach (var item in items)
                {
                    WriteValue(writer, item, field);
                }
                writer.WriteEndArray();
                break;
            default:
                throw new RecordException($"field '{field}' holds a {value.GetType().Name}, which cannot be written as JSON");
        }
    }

    // JSON has no NaN or Infinity; like JavaScript's JSON.stringify, write null.
    // Integral values take the much faster integer formatting (same value, never an exponent).
    private static void WriteNumber(Utf8JsonWriter writer, double value)
    {
        if (double.IsInteger(value) && Math.Abs(value) <= MaxExactInteger && !(value == 0 && double.IsNegative(value)))
        {
            writer.WriteNumberValue((long)value);
        }
        else if (double.IsFinite(value))
        {
            writer.WriteNumberValue(value);
        }
        else
        {
            writer.WriteNullValue();
        }
    }
}
