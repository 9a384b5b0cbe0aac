using System.Security.Cryptography;
using System.Text;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

public static class OAuthClientTypes
{
    /// <summary>A server-side app that keeps a secret: client credentials, and authorization code with its secret.</summary>
    public const string Confidential = "confidential";

    /// <summary>A browser or native app that cannot keep a secret: authorization code with PKCE only.</summary>
    public const string Public = "public";

    public static readonly IReadOnlyList<string> All = [Confidential, Public];
}

public sealed record OAuthClient(
    string ClientId, string TenantId, string Name, IReadOnlyList<string> Scopes, long CreatedAt, long? RevokedAt,
    string Type, IReadOnlyList<string> RedirectUris)
{
    public bool IsPublic => Type == OAuthClientTypes.Public;
}

/// <summary>A new client: <see cref="Secret"/> is shown once and stored only as a hash; public clients have none.</summary>
public sealed record IssuedOAuthClient(OAuthClient Client, string? Secret);

/// <summary>A tenant's OAuth clients: client credentials for its apps, authorization code + PKCE for interactive ones.</summary>
public sealed class OAuthClientStore(Database database, TimeProvider time)
{
    private const string Columns = "client_id, tenant_id, name, scopes, created_at, revoked_at, client_type, redirect_uris, secret_hash";

    public async Task<IssuedOAuthClient> CreateAsync(
        string tenantId, string name, IReadOnlyList<string> scopes, string type, IReadOnlyList<string> redirectUris, CancellationToken cancellationToken)
    {
        var client = new OAuthClient(Ids.New("fgc"), tenantId, name, scopes, time.GetUtcNow().ToUnixTimeMilliseconds(), null, type, redirectUris);
        var secret = client.IsPublic ? null : "fgs_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await database.WriteAsync((connection, transaction) =>
        {
            // A public client's hash is of random bytes nobody holds, so no secret ever matches it.
            const string sql = """
                INSERT INTO oauth_clients (client_id, tenant_id, name, secret_hash, scopes, created_at, client_type, redirect_uris)
                VALUES (@ClientId, @TenantId, @Name, @hash, @scopes, @CreatedAt, @Type, @redirectUris)
                """;
            connection.Execute(sql, new
            {
                client.ClientId, client.TenantId, client.Name, hash = secret is null ? RandomNumberGenerator.GetBytes(32) : Hash(secret),
                scopes = string.Join(' ', scopes), client.CreatedAt, client.Type, redirectUris = string.Join(' ', redirectUris),
            }, transaction);
        }, cancellationToken);
        return new IssuedOAuthClient(client, secret);
    }

    /// <returns>The confidential client when the secret is right and it is not revoked; otherwise null.</returns>
    public OAuthClient? Authenticate(string clientId, string secret)
    {
        const string sql = $"SELECT {Columns} FROM oauth_clients WHERE client_id = @clientId";
        using var connection = database.OpenConnection();
        var row = connection.QuerySingleOrDefault<ClientRow>(sql, new { clientId });
        if (row is null || row.RevokedAt is not null || row.ClientType != OAuthClientTypes.Confidential || !CryptographicOperations.FixedTimeEquals(row.SecretHash, Hash(secret)))
        {
            return null;
        }
        return row.ToClient();
    }

    /// <summary>
    /// An active client by id, whatever its tenant: the authorization endpoint learns the tenant from the
    /// client, before anyone has signed in. Callers compare the tenant before acting on it.
    /// </summary>
    public OAuthClient? FindActive(string clientId)
    {
        const string sql = $"SELECT {Columns} FROM oauth_clients WHERE client_id = @clientId AND revoked_at IS NULL";
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<ClientRow>(sql, new { clientId })?.ToClient();
    }

    /// <summary>Whether a client still may act (checked when its tokens are used, so revocation is immediate).</summary>
    public bool IsActive(string tenantId, string clientId)
    {
        const string sql = "SELECT 1 FROM oauth_clients WHERE tenant_id = @tenantId AND client_id = @clientId AND revoked_at IS NULL";
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<long?>(sql, new { tenantId, clientId }) == 1;
    }

    public IReadOnlyList<OAuthClient> List(string tenantId)
    {
        const string sql = $"SELECT {Columns} FROM oauth_clients WHERE tenant_id = @tenantId ORDER BY created_at";
        using var connection = database.OpenConnection();
        return connection.Query<ClientRow>(sql, new { tenantId }).Select(r => r.ToClient()).ToList();
    }

    public async Task<bool> RevokeAsync(string tenantId, string clientId, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "UPDATE oauth_clients SET revoked_at = @now WHERE tenant_id = @tenantId AND client_id = @clientId AND revoked_at IS NULL";
            return connection.Execute(sql, new { now, tenantId, clientId }, transaction) == 1;
        }, cancellationToken);
    }

    /// <summary>Marks an authorization code or a refresh token as used (the table keeps the hashes of both: they never collide).</summary>
    /// <returns>false when it was redeemed before: each works once.</returns>
    public async Task<bool> RedeemOnceAsync(string tenantId, string clientId, string code, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return await database.WriteAsync((connection, transaction) =>
        {
            const string forget = "DELETE FROM oauth_code_redemptions WHERE expires_at < @now";
            const string sql = """
                INSERT INTO oauth_code_redemptions (code_hash, tenant_id, client_id, redeemed_at, expires_at)
                VALUES (@hash, @tenantId, @clientId, @now, @expires) ON CONFLICT (code_hash) DO NOTHING
                """;
            connection.Execute(forget, new { now }, transaction);
            return connection.Execute(sql, new { hash = Hash(code), tenantId, clientId, now, expires = expiresAt.ToUnixTimeMilliseconds() }, transaction) == 1;
        }, cancellationToken);
    }

    /// <summary>Stops every refresh token of one consent (a spent one was presented again, so one leaked); kept until the chain's tokens expire.</summary>
    public Task RevokeGrantAsync(string tenantId, string grantId, DateTimeOffset expiresAt, CancellationToken cancellationToken)
    {
        const string forget = "DELETE FROM oauth_revoked_grants WHERE expires_at < @now";
        const string sql = """
            INSERT INTO oauth_revoked_grants (grant_id, tenant_id, revoked_at, expires_at) VALUES (@grantId, @tenantId, @now, @expires)
            ON CONFLICT (grant_id) DO NOTHING
            """;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return database.WriteAsync((connection, transaction) =>
        {
            connection.Execute(forget, new { now }, transaction);
            connection.Execute(sql, new { grantId, tenantId, now, expires = expiresAt.ToUnixTimeMilliseconds() }, transaction);
        }, cancellationToken);
    }

    public bool IsGrantRevoked(string tenantId, string grantId)
    {
        const string sql = "SELECT 1 FROM oauth_revoked_grants WHERE tenant_id = @tenantId AND grant_id = @grantId";
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<long?>(sql, new { tenantId, grantId }) == 1;
    }

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));

    private sealed record ClientRow(
        string ClientId, string TenantId, string Name, string Scopes, long CreatedAt, long? RevokedAt, string ClientType, string RedirectUris, byte[] SecretHash)
    {
        public OAuthClient ToClient() => new(
            ClientId, TenantId, Name, Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), CreatedAt, RevokedAt, ClientType,
            RedirectUris.Split(' ', StringSplitOptions.RemoveEmptyEntries));
    }
}
