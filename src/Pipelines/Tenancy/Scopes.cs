namespace Saas.Pipelines.Tenancy;

/// <summary>What an API key or an OAuth access token may do. A missing scope answers 403 naming it.</summary>
public static class Scopes
{
    public const string PipelinesRead = "pipelines:read";
    public const string PipelinesWrite = "pipelines:write";
    public const string RunsRead = "runs:read";
    public const string RunsWrite = "runs:write";
    public const string Gateway = "gateway";
    public const string BillingRead = "billing:read";

    /// <summary>The spending cap, billing contacts and Stripe sessions: what a tenant admin changes.</summary>
    public const string BillingWrite = "billing:write";

    /// <summary>
    /// Tenant administration — members, API keys, OAuth clients, AI settings, secrets, the audit log. A permission of
    /// roles only: no scope grants it, so no OAuth client or scoped key reaches it (not in <see cref="All"/>).
    /// </summary>
    public const string Administer = "administer";

    public static readonly IReadOnlyList<string> All = [PipelinesRead, PipelinesWrite, RunsRead, RunsWrite, Gateway, BillingRead, BillingWrite];

    /// <summary>
    /// The least role that holds each permission — the one table behind both the scopes a member may delegate to an
    /// app (<see cref="AllowedFor"/>) and the portal's page policies: viewers read, builders also change pipelines,
    /// run them and use the gateway, admins and owners also read and change billing and administer the tenant.
    /// </summary>
    public static readonly IReadOnlyDictionary<string, string> LeastRole = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [PipelinesRead] = MemberRoles.Viewer,
        [RunsRead] = MemberRoles.Viewer,
        [PipelinesWrite] = MemberRoles.Builder,
        [RunsWrite] = MemberRoles.Builder,
        [Gateway] = MemberRoles.Builder,
        [BillingRead] = MemberRoles.Admin,
        [BillingWrite] = MemberRoles.Admin,
        [Administer] = MemberRoles.Admin,
    };

    /// <summary>Whether <paramref name="role"/> holds <paramref name="permission"/> (a scope or <see cref="Administer"/>).</summary>
    public static bool RoleMay(string role, string permission) => MemberRoles.Includes(role, LeastRole[permission]);

    /// <summary>The scopes a member of this role may delegate to an app (authorization code flow): no more than the role may do itself.</summary>
    public static IReadOnlyList<string> AllowedFor(string role) => [.. All.Where(scope => RoleMay(role, scope))];
}
