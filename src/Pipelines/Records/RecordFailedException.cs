using System.Text;
using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Records;

/// <summary>A step failed on one record: says which record (1-based within its chunk) and shows it.</summary>
public sealed class RecordFailedException(long recordNumber, Record record, RecordException cause)
    : RecordException($"record {recordNumber}: {cause.Message}", cause)
{
    public long RecordNumber { get; } = recordNumber;
    public string RecordJson { get; } = Encoding.UTF8.GetString(Formats.RecordJson.ToUtf8(record));
}
