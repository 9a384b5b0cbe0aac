using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Triggers;

namespace Saas.Web.Api;

/// <summary>Reads a bounded JSON request body, turning every way it can be wrong into a problem (<see cref="RequestRefusal.ReadJsonAsync"/>).</summary>
public static class JsonBody
{
    public const long MaxBytes = RequestRefusal.MaxJsonBytes;

    public static async Task<(JsonDocument? Document, ProblemHttpResult? Problem)> ReadAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        var (document, refused) = await RequestRefusal.ReadJsonAsync(request.Body, request.ContentLength, cancellationToken);
        return (document, refused is null ? null : Problems.From(refused));
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
