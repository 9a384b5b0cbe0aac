using Saas.Pipelines.Records;
using Saas.Pipelines.Expressions;

namespace Saas.Pipelines.Tables;

/// <summary>
/// A reference table version in memory: key → the values of the columns a lookup takes. Keys compare as
/// text (a JSON number 42 matches the CSV value "42"); composite keys join their parts. The first row
/// with a key wins.
/// </summary>
public sealed class TableIndex(IReadOnlyList<string> keys, IReadOnlyList<string> columns, int capacity)
{
    private const char Separator = '\u001f';

    private readonly Dictionary<string, object?[]> _rows = new(capacity, StringComparer.Ordinal);

    public int Count => _rows.Count;

    internal void Add(Record row)
    {
        if (Key(row, keys) is not { } key)
        {
            return;
        }
        if (!_rows.ContainsKey(key))
        {
            var values = new object?[columns.Count];
            for (var i = 0; i < values.Length; i++)
            {
                values[i] = row.GetValueOrDefault(columns[i]);
            }
            _rows[key] = values;
        }
    }

    /// <summary>The row's values in column order, or null when no row has the record's key.</summary>
    public object?[]? Find(Record record, IReadOnlyList<string> recordFields) =>
        Key(record, recordFields) is { } key && _rows.TryGetValue(key, out var values) ? values : null;

    /// <summary>Null when a key part is missing or null: such a row or record matches nothing.</summary>
    internal static string? Key(Record record, IReadOnlyList<string> fields)
    {
        if (fields.Count == 1)
        {
            return record.TryGetValue(fields[0], out var value) && value is not null ? TextTemplate.ToText(value) : null;
        }
        var parts = new string[fields.Count];
        for (var i = 0; i < parts.Length; i++)
        {
            if (!record.TryGetValue(fields[i], out var value) || value is null)
            {
                return null;
            }
            parts[i] = TextTemplate.ToText(value);
        }
        return string.Join(Separator, parts);
    }
}
