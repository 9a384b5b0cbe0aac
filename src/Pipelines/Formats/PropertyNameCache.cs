using System.Text.Json;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Reuses the field-name strings of the previous record: consecutive records almost always repeat
/// the same names in the same order, so a byte comparison replaces a string allocation per field.
/// </summary>
internal sealed class PropertyNameCache
{
    private const int MaxFields = 1024;

    private Entry[] entries = new Entry[16];

    public int LastFieldCount { get; set; }

    public string Get(ref Utf8JsonReader reader, int ordinal)
    {
        if (reader.ValueIsEscaped || reader.HasValueSequence || ordinal >= MaxFields)
        {
            return reader.GetString()!;
        }
        if (ordinal >= entries.Length)
        {
            Array.Resize(ref entries, Math.Min(MaxFields, entries.Length * 2));
        }
        var utf8 = reader.ValueSpan;
        ref var entry = ref entries[ordinal];
        if (entry.Name is not null && utf8.SequenceEqual(entry.Utf8))
        {
            return entry.Name;
        }
        var name = reader.GetString()!;
        entry = new Entry(utf8.ToArray(), name);
        return name;
    }

    private readonly record struct Entry(byte[] Utf8, string Name);
}
