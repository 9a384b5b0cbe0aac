using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Saas.Web.Api;

/// <summary>Reads a bounded JSON request body, turning every way it can be wrong into a problem.</summary>
public static class JsonBody
{
    public const long MaxBytes = 10 * 1024 * 1024;

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength > MaxBytes)
        {
            return (null, Problems.TooLarge(MaxBytes));
        }
        try
        {
            await using var limited = new LimitedStream(request.Body, MaxBytes);
            var document = await JsonDocument.ParseAsync(limited, new JsonDocumentOptions { MaxDepth = 64 }, cancellationToken);
            return (document, null);
        }
        catch (LimitedStream.LimitExceededException)
        {
            return (null, Problems.TooLarge(MaxBytes));
        }
        catch (JsonException error)
        {
            return (null, Problems.BadRequest("Malformed JSON body", $"The body is not valid JSON{Saas.Pipelines.Definitions.DefinitionParser.DescribeJsonError(error)}"));
        }
    }

    /// <summary>Reads a body such as <c>{"reason": "…"}</c>: the string value of one property, or null when the body lacks it (the caller says what to send).</summary>
    public static async Task<(string? Value, ProblemHttpResult? Problem)> ReadStringAsync(HttpRequest request, string property, CancellationToken cancellationToken)
    {
        var (document, problem) = await ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return (null, problem);
        }
        using (document)
        {
            var body = document!.RootElement;
            return (body.ValueKind == JsonValueKind.Object && body.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null, null);
        }
    }

    private sealed class LimitedStream(Stream inner, long limit) : Stream
    {
        private long _read;

        public sealed class LimitExceededException : Exception;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));
        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => Count(await inner.ReadAsync(buffer, cancellationToken));
        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int read)
        {
            _read += read;
            return _read > limit ? throw new LimitExceededException() : read;
        }
    }
}
