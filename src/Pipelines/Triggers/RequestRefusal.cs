using System.Text.Json;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Pipelines;

namespace Saas.Pipelines.Triggers;

/// <summary>
/// Why a request (its key, or the run it would start) was refused, in the words of the problem+json answer. The web
/// host's tenant API and the Functions app's HTTP trigger both answer from these, so a caller sees one status, title
/// and detail whichever host took the call.
/// </summary>
/// <param name="RetryAfterSeconds">Sent as <c>Retry-After</c> when set.</param>
public sealed record RequestRefusal(int Status, string Title, string Detail, IReadOnlyDictionary<string, object?>? Extensions = null, int? RetryAfterSeconds = null)
{
    /// <summary>The largest JSON body a run may be started with; larger inputs go through uploads, which stream any size.</summary>
    public const long MaxJsonBytes = 10 * 1024 * 1024;

    /// <param name="keySent">An Authorization header was sent (its key is unknown or revoked), rather than none.</param>
    public static RequestRefusal Unauthenticated(bool keySent) =>
        new(401, "Unauthorized", keySent
            ? "The API key is unknown or revoked. Send 'Authorization: Bearer fg_live_…' with a valid key of your tenant."
            : "Send 'Authorization: Bearer fg_live_…' with an API key of your tenant (create one with `dotnet run --project src/Web -- create-tenant <name>`).");

    public static RequestRefusal KeyLacksScope(string scope) =>
        new(403, "Forbidden", $"The API key lacks the scope '{scope}'. Use a key created with it (portal API keys page, or POST /api/v1/keys with \"scopes\").");

    public static RequestRefusal NotFound(string what, string id) =>
        new(404, $"{what} not found", $"No {what} with id '{id}' exists in this tenant.");

    public static RequestRefusal Paused(string pipelineId) =>
        new(409, "Pipeline is paused", $"Pipeline '{pipelineId}' is paused; POST /api/v1/pipelines/{pipelineId}/resume to start runs again.");

    public static RequestRefusal TooLarge(long limit) =>
        new(413, "Request body too large",
            $"The body exceeds {limit:N0} bytes. Send large inputs as a file to POST /api/v1/pipelines/{{id}}/uploads, which streams any size.");

    public static RequestRefusal MalformedJson(JsonException error) =>
        new(400, "Malformed JSON body", $"The body is not valid JSON{DefinitionParser.DescribeJsonError(error)}");

    public static RequestRefusal InvalidRecords(string invalid) =>
        new(400, "Invalid run input", $"{invalid}. Send one JSON object (one record) or an array of objects.");

    public static RequestRefusal PaymentRequired(string reason) => new(402, "Payment required", reason);

    public static RequestRefusal Of(SpendingRefusedException refused) => PaymentRequired(refused.Message);

    /// <summary>429 with <c>Retry-After</c>, or 413 for a request larger than the limit allows at all.</summary>
    public static RequestRefusal Of(NewWorkRefusedException refused)
    {
        var extensions = new Dictionary<string, object?> { ["limit"] = refused.Limit, [refused.Limit] = refused.LimitValue };
        if (refused.Pending is { } pending)
        {
            extensions["pending"] = pending;
        }
        if (refused.RetryAfter is not { } retryAfter)
        {
            return new(413, "Too much new work in one request", refused.Message, extensions);
        }
        var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
        extensions["retryAfterSeconds"] = seconds;
        return new(429, refused.Limit == "maxPendingWork" ? "Too much pending work" : "New work submitted too fast", refused.Message, extensions, seconds);
    }

    /// <returns>The pipeline when it exists in the tenant and is not paused, else why not.</returns>
    public static (PipelineRow? Pipeline, RequestRefusal? Refused) Runnable(PipelineStore pipelines, string tenantId, string id) =>
        pipelines.Find(tenantId, id) switch
        {
            null => (null, NotFound("pipeline", id)),
            { Status: PipelineStatus.Paused } => (null, Paused(id)),
            var pipeline => (pipeline, null),
        };

    /// <summary>Parses a JSON request body of at most <see cref="MaxJsonBytes"/> (depth 64).</summary>
    /// <param name="declaredLength">The request's Content-Length, when sent: a larger one is refused before reading.</param>
    public static async Task<(JsonDocument? Document, RequestRefusal? Refused)> ReadJsonAsync(Stream body, long? declaredLength, CancellationToken cancellationToken)
    {
        if (declaredLength > MaxJsonBytes)
        {
            return (null, TooLarge(MaxJsonBytes));
        }
        try
        {
            await using var limited = new LimitedStream(body, MaxJsonBytes);
            return (await JsonDocument.ParseAsync(limited, new JsonDocumentOptions { MaxDepth = 64 }, cancellationToken), null);
        }
        catch (LimitedStream.LimitExceededException)
        {
            return (null, TooLarge(MaxJsonBytes));
        }
        catch (JsonException error)
        {
            return (null, MalformedJson(error));
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
