using System.Security.Cryptography;
using System.Text;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

public sealed record Tenant(string Id, string Name, long CreatedAt);

/// <summary>A new API key: <see cref="Secret"/> is shown once and stored only as a hash.</summary>
public sealed record IssuedApiKey(string Id, string TenantId, string Name, string Secret, string Prefix);

public sealed record ApiKeyIdentity(string KeyId, string TenantId);

public sealed class TenantStore(Database database, TimeProvider time)
{
    private const string KeyPrefix = "fg_live_";

    /// <summary>How long a verified key is trusted without asking the database again.</summary>
    private static readonly TimeSpan KeyCacheTime = TimeSpan.FromSeconds(10);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ApiKeyIdentity Identity, DateTimeOffset Until)> _verifiedKeys = new(StringComparer.Ordinal);

    public async Task<(Tenant Tenant, IssuedApiKey Key)> CreateTenantAsync(string name, CancellationToken cancellationToken)
    {
        var tenant = new Tenant(Ids.New("tn"), name, time.GetUtcNow().ToUnixTimeMilliseconds());
        var key = NewKey(tenant.Id, "default");
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO tenants (id, name, created_at) VALUES (@Id, @Name, @CreatedAt)
                """;
            connection.Execute(sql, tenant, transaction);
            InsertKey(connection, transaction, key);
            Billing.BillingOutbox.Enqueue(connection, transaction, tenant.Id, Billing.BillingOutbox.CreateCustomer, time.GetUtcNow());
        }, cancellationToken);
        return (tenant, key);
    }

    public ApiKeyIdentity? FindApiKey(string secret)
    {
        if (!secret.StartsWith(KeyPrefix, StringComparison.Ordinal) || secret.Length > 200)
        {
            return null;
        }
        var now = time.GetUtcNow();
        var hash = Hash(secret);
        var cacheKey = Convert.ToBase64String(hash);
        if (_verifiedKeys.TryGetValue(cacheKey, out var cached) && cached.Until > now)
        {
            return cached.Identity;
        }
        const string sql = """
            SELECT id AS KeyId, tenant_id AS TenantId FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL
            """;
        using var connection = database.OpenConnection();
        var identity = connection.QuerySingleOrDefault<ApiKeyIdentity>(sql, new { hash });
        if (identity is not null)
        {
            if (_verifiedKeys.Count > 10_000)
            {
                _verifiedKeys.Clear();
            }
            _verifiedKeys[cacheKey] = (identity, now + KeyCacheTime);
        }
        return identity;
    }

    private IssuedApiKey NewKey(string tenantId, string name)
    {
        var secret = KeyPrefix + Base62(RandomNumberGenerator.GetBytes(24));
        return new IssuedApiKey(Ids.New("key"), tenantId, name, secret, secret[..(KeyPrefix.Length + 6)]);
    }

    private void InsertKey(Microsoft.Data.Sqlite.SqliteConnection connection, Microsoft.Data.Sqlite.SqliteTransaction transaction, IssuedApiKey key)
    {
        const string sql = """
            INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, created_at)
            VALUES (@Id, @TenantId, @Name, @Hash, @Prefix, @CreatedAt)
            """;
        connection.Execute(sql, new { key.Id, key.TenantId, key.Name, Hash = Hash(key.Secret), key.Prefix, CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction);
    }

    internal static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    internal static string Base62(byte[] bytes)
    {
        const string alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
        var value = new System.Numerics.BigInteger(bytes, isUnsigned: true);
        var text = new StringBuilder();
        while (value > 0)
        {
            text.Insert(0, alphabet[(int)(value % 62)]);
            value /= 62;
        }
        return text.ToString().PadLeft(33, '0');
    }
}
