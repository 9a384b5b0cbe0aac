using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

public sealed record Tenant(string Id, string Name, long CreatedAt);

/// <summary>A new API key: <see cref="Secret"/> is shown once and stored only as a hash.</summary>
/// <param name="Scopes">What the key may do, or null for full access (every scope and tenant administration).</param>
public sealed record IssuedApiKey(string Id, string TenantId, string Name, string Secret, string Prefix, IReadOnlyList<string>? Scopes = null);

/// <param name="Scopes">null: full access.</param>
public sealed record ApiKeyIdentity(string KeyId, string TenantId, IReadOnlyList<string>? Scopes);

/// <summary>An API key as its tenant sees it: never the secret, only its first characters.</summary>
/// <param name="Scopes">Space-separated, or null for full access.</param>
public sealed record ApiKeyRow(string Id, string Name, string Prefix, long CreatedAt, long? LastUsedAt, long? RevokedAt, string? Scopes)
{
    public IReadOnlyList<string>? ScopeList => Scopes?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
}

public sealed class TenantStore(Database database, TimeProvider time)
{
    private const string KeyPrefix = "fg_live_";

    /// <summary>How long a verified key is trusted without asking the database again.</summary>
    private static readonly TimeSpan KeyCacheTime = TimeSpan.FromSeconds(10);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (ApiKeyIdentity Identity, DateTimeOffset Until)> _verifiedKeys = new(StringComparer.Ordinal);

    public async Task<(Tenant Tenant, IssuedApiKey Key)> CreateTenantAsync(string name, CancellationToken cancellationToken)
    {
        var key = default(IssuedApiKey)!;
        var tenant = await database.WriteAsync((connection, transaction) =>
        {
            var tenant = InsertTenant(connection, transaction, name);
            key = NewKey(tenant.Id, "default");
            InsertKey(connection, transaction, key);
            return tenant;
        }, cancellationToken);
        return (tenant, key);
    }

    /// <summary>Adds a tenant inside a caller's transaction (sign-up creates its owner in the same one), and queues its Stripe customer.</summary>
    public Tenant InsertTenant(DbConnection connection, DbTransaction transaction, string name)
    {
        const string sql = """
            INSERT INTO tenants (id, name, created_at) VALUES (@Id, @Name, @CreatedAt)
            """;
        var tenant = new Tenant(Ids.New("tn"), name, time.GetUtcNow().ToUnixTimeMilliseconds());
        connection.Execute(sql, tenant, transaction);
        Billing.BillingOutbox.Enqueue(connection, transaction, tenant.Id, Billing.BillingOutbox.CreateCustomer, time.GetUtcNow());
        return tenant;
    }

    public Tenant? FindTenant(string tenantId)
    {
        const string sql = "SELECT id, name, created_at FROM tenants WHERE id = @tenantId";
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<Tenant>(sql, new { tenantId });
    }

    public Task<IssuedApiKey> CreateApiKeyAsync(string tenantId, string name, CancellationToken cancellationToken) =>
        CreateApiKeyAsync(tenantId, name, null, cancellationToken);

    /// <param name="scopes">What the key may do; null for full access.</param>
    public async Task<IssuedApiKey> CreateApiKeyAsync(string tenantId, string name, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        var key = NewKey(tenantId, name) with { Scopes = scopes };
        await database.WriteAsync((connection, transaction) => InsertKey(connection, transaction, key), cancellationToken);
        return key;
    }

    public IReadOnlyList<ApiKeyRow> ListApiKeys(string tenantId)
    {
        const string sql = """
            SELECT id, name, prefix, created_at, last_used_at, revoked_at, scopes FROM api_keys
            WHERE tenant_id = @tenantId ORDER BY created_at DESC, id DESC
            """;
        using var connection = database.OpenConnection();
        return connection.Query<ApiKeyRow>(sql, new { tenantId }).AsList();
    }

    /// <summary>
    /// Revokes the key and forgets it on this node at once. Other nodes trust their cached lookup for at
    /// most <see cref="KeyCacheTime"/>.
    /// </summary>
    /// <returns>False if the tenant has no such active key.</returns>
    public async Task<bool> RevokeApiKeyAsync(string tenantId, string keyId, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE api_keys SET revoked_at = @now WHERE tenant_id = @tenantId AND id = @keyId AND revoked_at IS NULL
            """;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var revoked = await database.WriteAsync((connection, transaction) => connection.Execute(sql, new { tenantId, keyId, now }, transaction), cancellationToken) == 1;
        foreach (var (cacheKey, cached) in _verifiedKeys)
        {
            if (cached.Identity.KeyId == keyId)
            {
                _verifiedKeys.TryRemove(cacheKey, out _);
            }
        }
        return revoked;
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
            SELECT id, tenant_id, scopes FROM api_keys WHERE key_hash = @hash AND revoked_at IS NULL
            """;
        using var connection = database.OpenConnection();
        var row = connection.QuerySingleOrDefault<(string Id, string TenantId, string? Scopes)>(sql, new { hash });
        var identity = row.Id is null ? null : new ApiKeyIdentity(row.Id, row.TenantId, row.Scopes?.Split(' ', StringSplitOptions.RemoveEmptyEntries));
        if (identity is not null)
        {
            if (_verifiedKeys.Count > 10_000)
            {
                _verifiedKeys.Clear();
            }
            _verifiedKeys[cacheKey] = (identity, now + KeyCacheTime);
            TouchInBackground(identity.KeyId, now);
        }
        return identity;
    }

    /// <summary>
    /// "Last used" is refreshed when the key is looked up in the database (at most once per cache period),
    /// without making the request wait for a write.
    /// </summary>
    private void TouchInBackground(string keyId, DateTimeOffset now)
    {
        const string sql = "UPDATE api_keys SET last_used_at = @at WHERE id = @keyId";
        _ = database.WriteAsync((connection, transaction) => connection.Execute(sql, new { keyId, at = now.ToUnixTimeMilliseconds() }, transaction))
            .ContinueWith(write => _ = write.Exception, TaskContinuationOptions.OnlyOnFaulted);
    }

    private IssuedApiKey NewKey(string tenantId, string name)
    {
        var secret = KeyPrefix + Base62(RandomNumberGenerator.GetBytes(24));
        return new IssuedApiKey(Ids.New("key"), tenantId, name, secret, secret[..(KeyPrefix.Length + 6)]);
    }

    private void InsertKey(DbConnection connection, DbTransaction transaction, IssuedApiKey key)
    {
        const string sql = """
            INSERT INTO api_keys (id, tenant_id, name, key_hash, prefix, created_at, scopes)
            VALUES (@Id, @TenantId, @Name, @Hash, @Prefix, @CreatedAt, @Scopes)
            """;
        connection.Execute(sql, new
        {
            key.Id, key.TenantId, key.Name, Hash = Hash(key.Secret), key.Prefix, CreatedAt = time.GetUtcNow().ToUnixTimeMilliseconds(),
            Scopes = key.Scopes is null ? null : string.Join(' ', key.Scopes),
        }, transaction);
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
