using System.Text.Json;

namespace Saas.Pipelines.Formats;

/// <summary>
/// Keeps the encoded form of each field name of the previous record by position. Records of one
/// stream share their name strings (the CSV header, <see cref="PropertyNameCache"/>), so a reference
/// check replaces transcoding and escaping the name on every write.
/// </summary>
internal sealed class EncodedNameCache
{
    private const int MaxFields = 1024;

    private Entry[] entries = new Entry[16];

    public JsonEncodedText Get(string name, int ordinal)
    {
        if (ordinal >= MaxFields)
        {
            return JsonEncodedText.Encode(name, RecordJson.WriterOptions.Encoder);
        }
        if (ordinal >= entries.Length)
        {
            Array.Resize(ref entries, Math.Min(MaxFields, entries.Length * 2));
        }
        ref var entry = ref entries[ordinal];
        if (!ReferenceEquals(entry.Name, name))
        {
            entry = new Entry(name, JsonEncodedText.Encode(name, RecordJson.WriterOptions.Encoder));
        }
        return entry.Encoded;
    }

    private readonly record struct Entry(string? Name, JsonEncodedText Encoded);
}
