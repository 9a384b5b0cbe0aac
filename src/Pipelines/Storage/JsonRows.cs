using System.Buffers;
using System.Text;
using System.Text.Json;

namespace Saas.Pipelines.Storage;

/// <summary>
/// A batch of rows as one JSON array of arrays, for statements that insert the whole batch from a single
/// parameter (<c>json_each</c>): one bound value per batch instead of one per column and row.
/// </summary>
public static class JsonRows
{
    public static string Write<T>(IEnumerable<T> rows, Action<Utf8JsonWriter, T> writeColumns)
    {
        var buffer = new ArrayBufferWriter<byte>(16 * 1024);
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            foreach (var row in rows)
            {
                writer.WriteStartArray();
                writeColumns(writer, row);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        return Encoding.UTF8.GetString(buffer.WrittenSpan);
    }

    public static void WriteNullable(Utf8JsonWriter writer, string? value)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value);
        }
    }
}
