using Saas.Pipelines.Audit;

namespace Saas.Web.Audit;

/// <summary>
/// Where a request comes from, as the audit log records it. Portal pages run in a circuit, which has no
/// HttpContext: the origin of the request that rendered the page is passed to <c>Routes</c> as a root component
/// parameter (protected with the component's state) and cascaded to the pages, as the Blazor docs advise.
/// </summary>
public sealed record ClientOrigin(string? Ip, string? UserAgent)
{
    public static ClientOrigin From(HttpContext context) => new(
        context.Connection.RemoteIpAddress?.ToString(),
        context.Request.Headers.UserAgent.ToString() is { Length: > 0 } agent ? agent[..Math.Min(agent.Length, 256)] : null);

    /// <summary>A portal member acting from <paramref name="origin"/> (unknown outside a rendered page).</summary>
    public static AuditActor Member(ClientOrigin? origin, string userId) => new(AuditActorTypes.User, userId, origin?.Ip, origin?.UserAgent);
}
