using System.Buffers;
using System.Text.Json;

namespace Saas.Pipelines.Storage;

/// <summary>
/// A batch of rows as one JSON array of arrays in UTF-8, for statements that insert the whole batch from a
/// single parameter (<c>jsonb_array_elements</c> on PostgreSQL, <c>json_each</c> on SQLite): one round trip
/// and one bound value per batch instead of one per column and row.
/// </summary>
public static class JsonRows
{
    /// <summary>Batches are written by the database's one writer thread; its buffer is kept between them.</summary>
    [ThreadStatic]
    private static ArrayBufferWriter<byte>? _buffer;

    public static byte[] Write<T>(IEnumerable<T> rows, Action<IRowColumns, T> columns)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(64 * 1024);
        buffer.ResetWrittenCount();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            var row = new JsonRow(writer);
            writer.WriteStartArray();
            foreach (var item in rows)
            {
                writer.WriteStartArray();
                columns(row, item);
                writer.WriteEndArray();
            }
            writer.WriteEndArray();
        }
        return buffer.WrittenSpan.ToArray();
    }

    private sealed class JsonRow(Utf8JsonWriter writer) : IRowColumns
    {
        public void Text(string? value)
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

        public void Integer(long value) => writer.WriteNumberValue(value);

        public void Real(double value) => writer.WriteNumberValue(value);
    }
}
