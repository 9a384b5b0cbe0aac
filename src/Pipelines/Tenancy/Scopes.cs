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

    public static readonly IReadOnlyList<string> All = [PipelinesRead, PipelinesWrite, RunsRead, RunsWrite, Gateway, BillingRead, BillingWrite];

    /// <summary>
    /// The scopes a member of this role may delegate to an app (authorization code flow): no more than the
    /// portal lets the role do itself — viewers read, builders also change pipelines, run them and use the
    /// gateway, admins and owners also read and change billing.
    /// </summary>
    public static IReadOnlyList<string> AllowedFor(string role) =>
        MemberRoles.Includes(role, MemberRoles.Admin) ? All
        : MemberRoles.Includes(role, MemberRoles.Builder) ? [PipelinesRead, PipelinesWrite, RunsRead, RunsWrite, Gateway]
        : MemberRoles.Includes(role, MemberRoles.Viewer) ? [PipelinesRead, RunsRead]
        : [];
}
