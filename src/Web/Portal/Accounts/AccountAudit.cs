using Saas.Pipelines.Audit;
using Saas.Pipelines.Tenancy;
using Saas.Web.Audit;

namespace Saas.Web.Portal.Accounts;

/// <summary>
/// Audit entries about accounts (sign-ins, sign-outs, passwords), written to the organisation the account
/// belongs to, with the address and browser they came from. An e-mail without an account belongs to no
/// organisation: its failed sign-ins are only logged.
/// </summary>
public sealed class AccountAudit(AuditLog audit, MemberStore members, ILogger<AccountAudit> logger)
{
    public const string SignedIn = "user.signed_in";
    public const string SignInFailed = "user.sign_in_failed";
    public const string SignedOut = "user.signed_out";
    public const string PasswordReset = "user.password_reset";
    public const string PasswordResetRequested = "user.password_reset_requested";
    public const string Joined = "member.joined";

    public async Task AppendAsync(string? userId, string email, HttpContext http, string action, object? details = null)
    {
        if (userId is null || members.FindByUser(userId) is not { } membership)
        {
            logger.LogInformation("{Action} for {Email} from {Ip}: no organisation to audit it in", action, email, http.Connection.RemoteIpAddress);
            return;
        }
        // The person is the actor even before the cookie exists (a sign-in) or after it is gone (a sign-out).
        var actor = http.Actor() with { Type = AuditActorTypes.User, Id = userId };
        await audit.AppendAsync(membership.TenantId, actor, action, "user", userId, details ?? new { email }, http.RequestAborted);
    }
}
