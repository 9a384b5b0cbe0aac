using System.Data.Common;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

/// <summary>What a member may do in a tenant, from most to least.</summary>
public static class MemberRoles
{
    public const string Owner = "owner";
    public const string Admin = "admin";
    public const string Builder = "builder";
    public const string Viewer = "viewer";

    public static readonly string[] All = [Owner, Admin, Builder, Viewer];

    /// <summary>True if <paramref name="role"/> grants at least what <paramref name="required"/> does.</summary>
    public static bool Includes(string role, string required) =>
        Array.IndexOf(All, role) is >= 0 and var have && Array.IndexOf(All, required) is >= 0 and var need && have <= need;
}

public sealed record Membership(string TenantId, string UserId, string Role, long CreatedAt);

public sealed record Member(string UserId, string Email, string Role, long CreatedAt, bool HasPassword);

/// <summary>Mapped by property, not constructor: with no rows SQLite reports the computed has_password as a blob, which no constructor matches.</summary>
internal sealed class MemberRow
{
    public string UserId { get; init; } = "";

    public string Email { get; init; } = "";

    public string Role { get; init; } = "";

    public long CreatedAt { get; init; }

    public long HasPassword { get; init; }
}

/// <summary>Who belongs to which tenant, with which role. A user belongs to one tenant.</summary>
public sealed class MemberStore(Database database, TenantStore tenants, TimeProvider time)
{
    /// <summary>Sign-up: a new tenant whose owner is the new user, in one transaction.</summary>
    public async Task<Tenant> CreateTenantForOwnerAsync(string tenantName, string userId, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            var tenant = tenants.InsertTenant(connection, transaction, tenantName);
            Insert(connection, transaction, new Membership(tenant.Id, userId, MemberRoles.Owner, tenant.CreatedAt));
            return tenant;
        }, cancellationToken);

    public async Task AddAsync(string tenantId, string userId, string role, CancellationToken cancellationToken)
    {
        var membership = new Membership(tenantId, userId, role, time.GetUtcNow().ToUnixTimeMilliseconds());
        await database.WriteAsync((connection, transaction) => Insert(connection, transaction, membership), cancellationToken);
    }

    private static void Insert(DbConnection connection, DbTransaction transaction, Membership membership)
    {
        const string sql = """
            INSERT INTO memberships (tenant_id, user_id, role, created_at) VALUES (@TenantId, @UserId, @Role, @CreatedAt)
            """;
        connection.Execute(sql, membership, transaction);
    }

    public Membership? FindByUser(string userId)
    {
        const string sql = """
            SELECT tenant_id, user_id, role, created_at FROM memberships WHERE user_id = @userId ORDER BY created_at LIMIT 1
            """;
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<Membership>(sql, new { userId });
    }

    public IReadOnlyList<Member> List(string tenantId)
    {
        const string sql = """
            SELECT m.user_id, u.email, m.role, m.created_at, CAST(CASE WHEN u.password_hash IS NULL THEN 0 ELSE 1 END AS BIGINT) AS has_password
            FROM memberships m JOIN users u ON u.id = m.user_id
            WHERE m.tenant_id = @tenantId ORDER BY m.created_at, u.email
            """;
        using var connection = database.OpenConnection();
        return connection.Query<MemberRow>(sql, new { tenantId }).Select(r => new Member(r.UserId, r.Email, r.Role, r.CreatedAt, r.HasPassword != 0)).ToList();
    }

    /// <summary>Changes a member's role; refuses to leave the tenant without an owner.</summary>
    /// <returns>Null if the tenant has no such member; otherwise whether the change was allowed.</returns>
    public async Task<bool?> ChangeRoleAsync(string tenantId, string userId, string role, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            if (CurrentRole(connection, transaction, tenantId, userId) is not { } current)
            {
                return (bool?)null;
            }
            if (current == MemberRoles.Owner && role != MemberRoles.Owner && OwnerCount(connection, transaction, tenantId) == 1)
            {
                return false;
            }
            const string sql = "UPDATE memberships SET role = @role WHERE tenant_id = @tenantId AND user_id = @userId";
            connection.Execute(sql, new { tenantId, userId, role }, transaction);
            return true;
        }, cancellationToken);

    /// <summary>Removes a member; refuses to remove the last owner.</summary>
    /// <returns>Null if the tenant has no such member; otherwise whether the removal was allowed.</returns>
    public async Task<bool?> RemoveAsync(string tenantId, string userId, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            if (CurrentRole(connection, transaction, tenantId, userId) is not { } current)
            {
                return (bool?)null;
            }
            if (current == MemberRoles.Owner && OwnerCount(connection, transaction, tenantId) == 1)
            {
                return false;
            }
            const string sql = "DELETE FROM memberships WHERE tenant_id = @tenantId AND user_id = @userId";
            connection.Execute(sql, new { tenantId, userId }, transaction);
            return true;
        }, cancellationToken);

    private static string? CurrentRole(DbConnection connection, DbTransaction transaction, string tenantId, string userId) =>
        connection.QuerySingleOrDefault<string>(
            "SELECT role FROM memberships WHERE tenant_id = @tenantId AND user_id = @userId", new { tenantId, userId }, transaction);

    private static long OwnerCount(DbConnection connection, DbTransaction transaction, string tenantId) =>
        connection.QuerySingle<long>(
            "SELECT COUNT(*) FROM memberships WHERE tenant_id = @tenantId AND role = 'owner'", new { tenantId }, transaction);
}
