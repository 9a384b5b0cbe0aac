using System.Security.Cryptography;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

public sealed record IssuedPlatformKey(string Id, string Name, string Secret, string Prefix);

/// <summary>
/// Keys of the platform administrators (<c>fg_platform_…</c>), hashed like tenant keys. They open the
/// platform API only, and name no tenant.
/// </summary>
public sealed class PlatformKeyStore(Database database, TimeProvider time)
{
    public const string KeyPrefix = "fg_platform_";

    public async Task<IssuedPlatformKey> CreateAsync(string name, CancellationToken cancellationToken)
    {
        var secret = KeyPrefix + TenantStore.Base62(RandomNumberGenerator.GetBytes(24));
        var key = new IssuedPlatformKey(Ids.New("pkey"), name, secret, secret[..(KeyPrefix.Length + 6)]);
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO platform_keys (id, name, key_hash, prefix, created_at) VALUES (@Id, @Name, @Hash, @Prefix, @CreatedAt)
                """;
            connection.Execute(sql, new { key.Id, key.Name, Hash = TenantStore.Hash(secret), key.Prefix, CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction);
        }, cancellationToken);
        return key;
    }

    /// <returns>The key's id, or null when the secret is no live platform key.</returns>
    public string? Find(string secret)
    {
        if (!secret.StartsWith(KeyPrefix, StringComparison.Ordinal) || secret.Length > 200)
        {
            return null;
        }
        const string sql = "SELECT id FROM platform_keys WHERE key_hash = @hash AND revoked_at IS NULL";
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<string?>(sql, new { hash = TenantStore.Hash(secret) });
    }
}
