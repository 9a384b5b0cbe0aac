namespace Saas.Pipelines.Records;

/// <summary>
/// One record flowing through a pipeline: field name → value. Values are <see cref="string"/>,
/// <see cref="double"/>, <see cref="bool"/>, <c>null</c>, a nested <see cref="Record"/> or a
/// <see cref="List{T}"/> of values. CSV fields arrive as strings.
/// </summary>
public sealed class Record : Dictionary<string, object?>
{
    public Record() : base(StringComparer.Ordinal) { }

    public Record(int capacity) : base(capacity, StringComparer.Ordinal) { }
}
