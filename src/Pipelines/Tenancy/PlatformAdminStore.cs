using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

/// <summary>
/// Portal users granted the platform administrator role (<c>grant-platform-admin &lt;email&gt;</c>). The role
/// belongs to no tenant: it opens the platform pages, whatever the user's membership.
/// </summary>
public sealed class PlatformAdminStore(Database database, TimeProvider time)
{
    public async Task GrantAsync(string userId, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
            connection.Execute("INSERT INTO platform_admins (user_id, granted_at) VALUES (@userId, @now) ON CONFLICT (user_id) DO NOTHING",
                new { userId, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction), cancellationToken);

    /// <returns>False when the user was no platform administrator.</returns>
    public async Task<bool> RevokeAsync(string userId, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
            connection.Execute("DELETE FROM platform_admins WHERE user_id = @userId", new { userId }, transaction) > 0, cancellationToken);

    public bool IsAdmin(string userId)
    {
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<long>("SELECT COUNT(*) FROM platform_admins WHERE user_id = @userId", new { userId }) > 0;
    }
}
