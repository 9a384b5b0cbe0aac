namespace Saas.Pipelines.Records;

/// <summary>
/// A problem with the data itself (a malformed file, an expression that throws on a record).
/// Retrying cannot fix it, so the run fails at once with this message.
/// </summary>
public class RecordException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>An input file that does not parse; the message starts with the line and column.</summary>
public sealed class MalformedInputException(long line, long column, string problem)
    : RecordException($"line {line}, column {column}: {problem}")
{
    public long Line { get; } = line;
    public long Column { get; } = column;
    public string Problem { get; } = problem;
}
