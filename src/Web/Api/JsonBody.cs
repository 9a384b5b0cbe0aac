using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Triggers;

namespace Saas.Web.Api;

/// <summary>Reads a bounded JSON request body, turning every way it can be wrong into a problem (<see cref="RequestRefusal.ReadJsonAsync"/>).</summary>
public static class JsonBody
{
    public const long MaxBytes = RequestRefusal.MaxJsonBytes;

    /// <summary>Bodies up to this size with a declared length are read whole from Kestrel's buffer and parsed in one go.</summary>
    private const long SmallBody = 64 * 1024;

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        if (request.ContentLength is > 0 and <= SmallBody && await ReadSmallAsync(request, request.ContentLength.Value, cancellationToken) is { } small)
        {
            return small;
        }
        var (document, refused) = await RequestRefusal.ReadJsonAsync(request.Body, request.ContentLength, cancellationToken);
        return (document, refused is null ? null : Problems.From(refused));
    }

    /// <summary>
    /// A small body (an API call, a gateway request) usually arrives with its headers: parsing it straight from the
    /// request's pipe spares the stream wrappers and the asynchronous parser. Null when the body ended short of its
    /// declared length (the stream path then answers as it always does).
    /// </summary>
    private static async Task<(JsonDocument?, ProblemHttpResult?)?> ReadSmallAsync(HttpRequest request, long length, CancellationToken cancellationToken)
    {
        var reader = request.BodyReader;
        while (true)
        {
            var read = await reader.ReadAsync(cancellationToken);
            if (read.Buffer.Length >= length)
            {
                try
                {
                    // ParseValue copies the bytes: the pipe's memory goes back to Kestrel's pool once advanced past.
                    var json = new Utf8JsonReader(read.Buffer.Slice(0, length), new JsonReaderOptions { MaxDepth = 64 });
                    var document = JsonDocument.ParseValue(ref json);
                    try
                    {
                        // Anything but whitespace after the value throws here, as the stream parser would.
                        json.Read();
                    }
                    catch
                    {
                        document.Dispose();
                        throw;
                    }
                    return (document, null);
                }
                catch (JsonException error)
                {
                    return (null, Problems.From(RequestRefusal.MalformedJson(error)));
                }
                finally
                {
                    reader.AdvanceTo(read.Buffer.End);
                }
            }
            if (read.IsCompleted)
            {
                reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
                return null;
            }
            reader.AdvanceTo(read.Buffer.Start, read.Buffer.End);
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
}
