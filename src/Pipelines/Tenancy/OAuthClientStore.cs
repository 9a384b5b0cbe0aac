using System.Security.Cryptography;
using System.Text;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tenancy;

public sealed record OAuthClient(string ClientId, string TenantId, string Name, IReadOnlyList<string> Scopes, long CreatedAt, long? RevokedAt);

/// <summary>A new client: <see cref="Secret"/> is shown once and stored only as a hash.</summary>
public sealed record IssuedOAuthClient(OAuthClient Client, string Secret);

/// <summary>A tenant's OAuth clients for the client-credentials grant.</summary>
public sealed class OAuthClientStore(Database database, TimeProvider time)
{
    public async Task<IssuedOAuthClient> CreateAsync(string tenantId, string name, IReadOnlyList<string> scopes, CancellationToken cancellationToken)
    {
        var client = new OAuthClient(Ids.New("fgc"), tenantId, name, scopes, time.GetUtcNow().ToUnixTimeMilliseconds(), null);
        var secret = "fgs_" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO oauth_clients (client_id, tenant_id, name, secret_hash, scopes, created_at)
                VALUES (@ClientId, @TenantId, @Name, @hash, @scopes, @CreatedAt)
                """;
            connection.Execute(sql, new { client.ClientId, client.TenantId, client.Name, hash = Hash(secret), scopes = string.Join(' ', scopes), client.CreatedAt }, transaction);
        }, cancellationToken);
        return new IssuedOAuthClient(client, secret);
    }

    /// <returns>The client when the secret is right and it is not revoked; otherwise null.</returns>
    public OAuthClient? Authenticate(string clientId, string secret)
    {
        const string sql = """
            SELECT client_id, tenant_id, name, secret_hash, scopes, created_at, revoked_at FROM oauth_clients WHERE client_id = @clientId
            """;
        using var connection = database.OpenConnection();
        var row = connection.QuerySingleOrDefault<(string ClientId, string TenantId, string Name, byte[] SecretHash, string Scopes, long CreatedAt, long? RevokedAt)>(sql, new { clientId });
        if (row.ClientId is null || row.RevokedAt is not null || !CryptographicOperations.FixedTimeEquals(row.SecretHash, Hash(secret)))
        {
            return null;
        }
        return new OAuthClient(row.ClientId, row.TenantId, row.Name, row.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), row.CreatedAt, null);
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
        const string sql = """
            SELECT client_id, tenant_id, name, scopes, created_at, revoked_at FROM oauth_clients WHERE tenant_id = @tenantId ORDER BY created_at
            """;
        using var connection = database.OpenConnection();
        return connection.Query<(string ClientId, string TenantId, string Name, string Scopes, long CreatedAt, long? RevokedAt)>(sql, new { tenantId })
            .Select(r => new OAuthClient(r.ClientId, r.TenantId, r.Name, r.Scopes.Split(' ', StringSplitOptions.RemoveEmptyEntries), r.CreatedAt, r.RevokedAt))
            .ToList();
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

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
