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
}
