using System.Text.RegularExpressions;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Secrets;

/// <summary>A secret as listed: never its value.</summary>
public sealed record SecretInfo(string Name, long UpdatedAt);

/// <summary>
/// A tenant's named secrets (API tokens for HTTP steps, webhook signing keys), encrypted before they are
/// stored. Values leave this class only through <see cref="Reveal"/>, for the outbound call that needs them.
/// </summary>
public sealed partial class TenantSecrets(Database database, ISecretProtector protector, TimeProvider time)
{
    public async Task<SecretInfo> SaveAsync(string tenantId, string name, string value, CancellationToken cancellationToken)
    {
        var protectedValue = protector.Protect(tenantId, value);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO tenant_secrets (tenant_id, name, protected_value, updated_at) VALUES (@tenantId, @name, @protectedValue, @now)
                ON CONFLICT (tenant_id, name) DO UPDATE SET protected_value = excluded.protected_value, updated_at = excluded.updated_at
                """;
            connection.Execute(sql, new { tenantId, name, protectedValue, now }, transaction);
        }, cancellationToken);
        return new SecretInfo(name, now);
    }

    public IReadOnlyList<SecretInfo> List(string tenantId)
    {
        const string sql = """
            SELECT name, updated_at FROM tenant_secrets WHERE tenant_id = @tenantId ORDER BY name
            """;
        using var connection = database.OpenConnection();
        return connection.Query<SecretInfo>(sql, new { tenantId }).AsList();
    }

    public async Task<bool> DeleteAsync(string tenantId, string name, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "DELETE FROM tenant_secrets WHERE tenant_id = @tenantId AND name = @name";
            return connection.Execute(sql, new { tenantId, name }, transaction) == 1;
        }, cancellationToken);

    /// <summary>1-64 characters: letters, digits, '_' or '-', starting with a letter (so <c>{{secrets.name}}</c> reads unambiguously).</summary>
    public static bool IsValidName(string name) => Name().IsMatch(name);

    public const string NameRule = "1-64 characters: letters, digits, '_' or '-', starting with a letter";

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9_-]{0,63}$")]
    private static partial Regex Name();

    /// <summary>The value in clear, for the outbound call only; never for an API answer, a log or an error message.</summary>
    /// <exception cref="MissingSecretException">The tenant has no such secret (it was deleted after the pipeline was published).</exception>
    public string Reveal(string tenantId, string name)
    {
        const string sql = """
            SELECT protected_value FROM tenant_secrets WHERE tenant_id = @tenantId AND name = @name
            """;
        using var connection = database.OpenConnection();
        var protectedValue = connection.QuerySingleOrDefault<string>(sql, new { tenantId, name }) ?? throw new MissingSecretException(name);
        return protector.Unprotect(tenantId, protectedValue);
    }
}

/// <summary>A step or sink names a secret the tenant does not have; retrying cannot fix it.</summary>
public sealed class MissingSecretException(string name)
    : Records.RecordException($"the secret '{name}' does not exist; create it with PUT /api/v1/secrets/{name}")
{
    public string Name { get; } = name;
}
