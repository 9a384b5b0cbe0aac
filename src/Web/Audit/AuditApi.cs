using System.Security.Claims;
using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Audit;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Audit;

public sealed record AuditEntryDto(
    string Id, DateTimeOffset At, string ActorType, string? ActorId, string Action, string? TargetType, string? TargetId,
    JsonElement? Details, string? Ip, string? UserAgent);

public sealed record AuditPage(IReadOnlyList<AuditEntryDto> Items, string? Next);

/// <summary><c>GET /api/v1/audit</c> (newest first, filtered) and <c>/audit/export</c> (JSONL, oldest first).</summary>
public static class AuditApi
{
    public static RouteGroupBuilder MapAuditApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/audit").WithTags("Audit log");
        group.MapGet("/", List);
        group.MapGet("/export", Export);
        return group;
    }

    /// <summary>Who is acting in this request, and from where.</summary>
    public static AuditActor Actor(this HttpContext context)
    {
        var user = context.User;
        var (type, id) = user.FindFirstValue(ApiKeyAuthentication.KeyClaim) is { } key ? (AuditActorTypes.ApiKey, key)
            // An app acting for a member (authorization code): the member who consented is accountable.
            : user.FindFirstValue(Saas.Web.OAuth.OAuthServer.UserClaim) is { } member ? (AuditActorTypes.User, member)
            : user.FindFirstValue("client_id") is { } client ? (AuditActorTypes.OAuthClient, client)
            : user.FindFirstValue(Saas.Web.Platform.PlatformKeyAuthentication.KeyClaim) is { } platform ? (AuditActorTypes.Platform, platform)
            : user.FindFirstValue(ClaimTypes.NameIdentifier) is { } userId ? (AuditActorTypes.User, userId)
            : (AuditActorTypes.System, (string?)null);
        var origin = ClientOrigin.From(context);
        return new AuditActor(type, id, origin.Ip, origin.UserAgent);
    }

    private static Results<Ok<AuditPage>, ProblemHttpResult> List(
        CurrentTenant tenant, AuditLog log, DateTimeOffset? from, DateTimeOffset? to, string? action, string? actor, int? limit, string? cursor)
    {
        if (!PageCursor.TryParse(cursor, out var before))
        {
            return PageCursor.Invalid();
        }
        var size = Math.Clamp(limit ?? 100, 1, 1000);
        var entries = log.List(tenant.Id, (from ?? DateTimeOffset.MinValue).ToUnixTimeMilliseconds(), (to ?? DateTimeOffset.MaxValue).ToUnixTimeMilliseconds(), action, size, before, actor);
        return TypedResults.Ok(new AuditPage(entries.Select(ToDto).ToList(), entries.Count == size ? PageCursor.Of(entries[^1].At, entries[^1].Id) : null));
    }

    /// <summary>Also the portal audit page's download (the same handler, for the signed-in admin's tenant).</summary>
    public static async Task Export(HttpContext context, CurrentTenant tenant, AuditLog log, DateTimeOffset? from, DateTimeOffset? to)
    {
        context.Response.ContentType = "application/x-ndjson";
        context.Response.Headers.ContentDisposition = $"attachment; filename=\"audit-{tenant.Id}.jsonl\"";
        foreach (var entry in log.Export(tenant.Id, (from ?? DateTimeOffset.MinValue).ToUnixTimeMilliseconds(), (to ?? DateTimeOffset.MaxValue).ToUnixTimeMilliseconds()))
        {
            await JsonSerializer.SerializeAsync(context.Response.Body, ToDto(entry), JsonOptions, context.RequestAborted);
            await context.Response.Body.WriteAsync("\n"u8.ToArray(), context.RequestAborted);
        }
    }

    private static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web);

    private static AuditEntryDto ToDto(AuditEntry entry) => new(
        entry.Id, DateTimeOffset.FromUnixTimeMilliseconds(entry.At), entry.ActorType, entry.ActorId, entry.Action, entry.TargetType, entry.TargetId,
        entry.Details is null ? null : JsonDocument.Parse(entry.Details).RootElement.Clone(), entry.Ip, entry.UserAgent);
}
