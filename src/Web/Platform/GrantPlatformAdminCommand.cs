using Microsoft.AspNetCore.Identity;
using Saas.Pipelines.Tenancy;
using Saas.Web.Portal.Accounts;

namespace Saas.Web.Platform;

/// <summary>
/// <c>grant-platform-admin &lt;email&gt; [--revoke]</c>: makes a portal account a platform administrator (the
/// platform pages), or takes it back. Run by whoever operates the deployment, like <c>create-platform-key</c>.
/// </summary>
public static class GrantPlatformAdminCommand
{
    public static async Task<int> RunAsync(IServiceProvider services, string[] args)
    {
        var email = args.FirstOrDefault(a => !a.StartsWith("--", StringComparison.Ordinal));
        if (string.IsNullOrWhiteSpace(email))
        {
            await Console.Error.WriteLineAsync("usage: grant-platform-admin <email> [--revoke]");
            return 2;
        }
        using var scope = services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<Account>>();
        if (await users.FindByEmailAsync(email) is not { } account)
        {
            await Console.Error.WriteLineAsync($"No portal account has the e-mail '{email}': the person signs up (or accepts an invitation) first, then run this again.");
            return 1;
        }
        var admins = services.GetRequiredService<PlatformAdminStore>();
        if (args.Contains("--revoke"))
        {
            var revoked = await admins.RevokeAsync(account.Id, CancellationToken.None);
            // A new security stamp signs the account out everywhere, so no open tab keeps the role.
            await users.UpdateSecurityStampAsync(account);
            Console.WriteLine(revoked ? $"{email} is no longer a platform administrator." : $"{email} was not a platform administrator.");
            return 0;
        }
        await admins.GrantAsync(account.Id, CancellationToken.None);
        Console.WriteLine($"{email} is a platform administrator: the Platform pages (/platform/tenants, /platform/plans, /platform/reconciliation) open within a minute, or at the next sign-in.");
        return 0;
    }
}
