// Temporary stand-ins for the Formats and Expressions branches; deleted when they merge.
using System.Text.Json;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Formats
{
    public enum InputFormat { Csv, Json, Jsonl }
    public enum SinkFormat { Jsonl, Csv, Json }
    public sealed record SplitResult(int Chunks, long Records);
    public static class RecordJson { public static byte[] ToUtf8(Record record) => throw new NotImplementedException(); }
    public static class InputSplitter
    {
        public static Task<SplitResult> SplitAsync(Stream input, InputFormat format, char csvDelimiter, int recordsPerChunk, Func<int, CancellationToken, Task<Stream>> openChunk, CancellationToken ct) => throw new NotImplementedException();
    }
    public static class ChunkReader
    {
        public static IAsyncEnumerable<Record> ReadCsvAsync(Stream chunk, char delimiter, CancellationToken ct) => throw new NotImplementedException();
        public static IAsyncEnumerable<Record> ReadJsonlAsync(Stream chunk, CancellationToken ct) => throw new NotImplementedException();
    }
    public sealed class JsonlRecordWriter(Stream destination) : IAsyncDisposable
    {
        public ValueTask WriteAsync(Record record, CancellationToken ct) => throw new NotImplementedException(destination.ToString());
        public long Count { get; }
        public ValueTask DisposeAsync() => ValueTask.CompletedTask;
    }
    public static class SinkWriter
    {
        public static Task<long> WriteAsync(IReadOnlyList<Func<CancellationToken, Task<Stream>>> chunkOutputs, SinkFormat format, char csvDelimiter, Stream destination, CancellationToken ct) => throw new NotImplementedException();
    }
}

namespace Saas.Pipelines.Expressions
{
    public sealed record ExpressionLimits(TimeSpan Timeout, long MemoryBytes, int RecursionDepth) { public static ExpressionLimits Default { get; } = new(TimeSpan.FromMilliseconds(100), 4_000_000, 64); }
    public static class ExpressionCompiler { public static CompiledExpression? TryCompile(string source, ExpressionLimits limits, out string? error) => throw new NotImplementedException(); }
    public abstract class CompiledExpression
    {
        public string Source { get; } = "";
        public abstract object? Evaluate(Record record);
        public bool IsTrue(Record record) => throw new NotImplementedException();
    }
}
