using Dapper;
using Microsoft.AspNetCore.Identity;
using Saas.Pipelines.Storage;

namespace Saas.Web.Portal.Accounts;

/// <summary>Identity's user store over the engine's database (table <c>users</c>), in Dapper like the rest of it.</summary>
public sealed class AccountStore(Database database, TimeProvider time) :
    IUserPasswordStore<Account>, IUserEmailStore<Account>, IUserLockoutStore<Account>, IUserSecurityStampStore<Account>
{
    private const string Columns = """
        id, email, normalized_email, email_confirmed, password_hash, security_stamp, concurrency_stamp,
        lockout_enabled, lockout_end, access_failed_count, created_at
        """;

    public async Task<IdentityResult> CreateAsync(Account user, CancellationToken cancellationToken)
    {
        const string sql = $"""
            INSERT INTO users ({Columns})
            VALUES (@Id, @Email, @NormalizedEmail, @EmailConfirmed, @PasswordHash, @SecurityStamp, @ConcurrencyStamp,
                    @LockoutEnabled, @LockoutEnd, @AccessFailedCount, @CreatedAt)
            """;
        user.CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds();
        try
        {
            await database.WriteAsync((connection, transaction) => connection.Execute(sql, user, transaction), cancellationToken);
        }
        catch (Exception e) when (e is Microsoft.Data.Sqlite.SqliteException { SqliteExtendedErrorCode: 2067 } or Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.UniqueViolation })
        {
            return IdentityResult.Failed(new IdentityErrorDescriber().DuplicateEmail(user.Email));
        }
        return IdentityResult.Success;
    }

    /// <summary>Optimistic concurrency: the row is updated only if nobody changed it since it was read.</summary>
    public async Task<IdentityResult> UpdateAsync(Account user, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE users SET email = @Email, normalized_email = @NormalizedEmail, email_confirmed = @EmailConfirmed,
                password_hash = @PasswordHash, security_stamp = @SecurityStamp, concurrency_stamp = @NewStamp,
                lockout_enabled = @LockoutEnabled, lockout_end = @LockoutEnd, access_failed_count = @AccessFailedCount
            WHERE id = @Id AND concurrency_stamp = @ConcurrencyStamp
            """;
        var newStamp = Guid.NewGuid().ToString("N");
        var updated = await database.WriteAsync((connection, transaction) => connection.Execute(sql, new
        {
            user.Email, user.NormalizedEmail, user.EmailConfirmed, user.PasswordHash, user.SecurityStamp, NewStamp = newStamp,
            user.LockoutEnabled, user.LockoutEnd, user.AccessFailedCount, user.Id, user.ConcurrencyStamp,
        }, transaction), cancellationToken);
        if (updated == 0)
        {
            return IdentityResult.Failed(new IdentityErrorDescriber().ConcurrencyFailure());
        }
        user.ConcurrencyStamp = newStamp;
        return IdentityResult.Success;
    }

    public async Task<IdentityResult> DeleteAsync(Account user, CancellationToken cancellationToken)
    {
        const string sql = "DELETE FROM users WHERE id = @Id";
        await database.WriteAsync((connection, transaction) => connection.Execute(sql, new { user.Id }, transaction), cancellationToken);
        return IdentityResult.Success;
    }

    public Task<Account?> FindByIdAsync(string userId, CancellationToken cancellationToken)
    {
        const string sql = $"SELECT {Columns} FROM users WHERE id = @userId";
        using var connection = database.OpenConnection();
        return Task.FromResult(connection.QuerySingleOrDefault<Account>(sql, new { userId }));
    }

    public Task<Account?> FindByEmailAsync(string normalizedEmail, CancellationToken cancellationToken)
    {
        const string sql = $"SELECT {Columns} FROM users WHERE normalized_email = @normalizedEmail";
        using var connection = database.OpenConnection();
        return Task.FromResult(connection.QuerySingleOrDefault<Account>(sql, new { normalizedEmail }));
    }

    public Task<Account?> FindByNameAsync(string normalizedUserName, CancellationToken cancellationToken) =>
        FindByEmailAsync(normalizedUserName, cancellationToken);

    public Task<string> GetUserIdAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(user.Id);

    public Task<string?> GetUserNameAsync(Account user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.Email);

    public Task SetUserNameAsync(Account user, string? userName, CancellationToken cancellationToken)
    {
        user.Email = userName ?? "";
        return Task.CompletedTask;
    }

    public Task<string?> GetNormalizedUserNameAsync(Account user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.NormalizedEmail);

    public Task SetNormalizedUserNameAsync(Account user, string? normalizedName, CancellationToken cancellationToken)
    {
        user.NormalizedEmail = normalizedName ?? "";
        return Task.CompletedTask;
    }

    public Task SetPasswordHashAsync(Account user, string? passwordHash, CancellationToken cancellationToken)
    {
        user.PasswordHash = passwordHash;
        return Task.CompletedTask;
    }

    public Task<string?> GetPasswordHashAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash);

    public Task<bool> HasPasswordAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(user.PasswordHash is not null);

    public Task SetEmailAsync(Account user, string? email, CancellationToken cancellationToken)
    {
        user.Email = email ?? "";
        return Task.CompletedTask;
    }

    public Task<string?> GetEmailAsync(Account user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.Email);

    public Task<bool> GetEmailConfirmedAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(user.EmailConfirmed);

    public Task SetEmailConfirmedAsync(Account user, bool confirmed, CancellationToken cancellationToken)
    {
        user.EmailConfirmed = confirmed;
        return Task.CompletedTask;
    }

    public Task<string?> GetNormalizedEmailAsync(Account user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.NormalizedEmail);

    public Task SetNormalizedEmailAsync(Account user, string? normalizedEmail, CancellationToken cancellationToken)
    {
        user.NormalizedEmail = normalizedEmail ?? "";
        return Task.CompletedTask;
    }

    public Task<DateTimeOffset?> GetLockoutEndDateAsync(Account user, CancellationToken cancellationToken) =>
        Task.FromResult(user.LockoutEnd is { } end ? DateTimeOffset.FromUnixTimeMilliseconds(end) : (DateTimeOffset?)null);

    public Task SetLockoutEndDateAsync(Account user, DateTimeOffset? lockoutEnd, CancellationToken cancellationToken)
    {
        user.LockoutEnd = lockoutEnd?.ToUnixTimeMilliseconds();
        return Task.CompletedTask;
    }

    public Task<int> IncrementAccessFailedCountAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(++user.AccessFailedCount);

    public Task ResetAccessFailedCountAsync(Account user, CancellationToken cancellationToken)
    {
        user.AccessFailedCount = 0;
        return Task.CompletedTask;
    }

    public Task<int> GetAccessFailedCountAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(user.AccessFailedCount);

    public Task<bool> GetLockoutEnabledAsync(Account user, CancellationToken cancellationToken) => Task.FromResult(user.LockoutEnabled);

    public Task SetLockoutEnabledAsync(Account user, bool enabled, CancellationToken cancellationToken)
    {
        user.LockoutEnabled = enabled;
        return Task.CompletedTask;
    }

    public Task SetSecurityStampAsync(Account user, string stamp, CancellationToken cancellationToken)
    {
        user.SecurityStamp = stamp;
        return Task.CompletedTask;
    }

    public Task<string?> GetSecurityStampAsync(Account user, CancellationToken cancellationToken) => Task.FromResult<string?>(user.SecurityStamp);

    public void Dispose()
    {
    }
}
