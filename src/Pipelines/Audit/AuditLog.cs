using System.Text.Json;
using Dapper;
using System.Data.Common;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Audit;

public static class AuditActorTypes
{
    public const string ApiKey = "api_key";
    public const string User = "user";
    public const string OAuthClient = "oauth_client";
    public const string Platform = "platform";
    public const string System = "system";
}

/// <summary>Who acted, and from where (the client's address and user agent, when over HTTP).</summary>
public sealed record AuditActor(string Type, string? Id, string? Ip = null, string? UserAgent = null)
{
    public static AuditActor System { get; } = new(AuditActorTypes.System, null);
}

public sealed record AuditEntry(
    string TenantId, string Id, long At, string ActorType, string? ActorId, string Action,
    string? TargetType, string? TargetId, string? Details, string? Ip, string? UserAgent);

/// <summary>
/// The tenant's audit log: sign-ins, members and roles, keys and clients, pipelines published, paused
/// and rolled back, secrets and provider settings, billing. Append-only (the table refuses changes).
/// </summary>
public sealed class AuditLog(Database database, TimeProvider time)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    /// <param name="details">Anything JSON-serializable that says what changed; never a secret.</param>
    public Task AppendAsync(string tenantId, AuditActor actor, string action, string? targetType, string? targetId, object? details, CancellationToken cancellationToken)
    {
        var entry = new AuditEntry(tenantId, Ids.New("aud"), time.GetUtcNow().ToUnixTimeMilliseconds(), actor.Type, actor.Id, action, targetType, targetId,
            details is null ? null : JsonSerializer.Serialize(details, Json), actor.Ip, actor.UserAgent);
        return database.WriteAsync((connection, transaction) => Append(connection, transaction, entry), cancellationToken);
    }

    public static void Append(DbConnection connection, DbTransaction transaction, AuditEntry entry)
    {
        const string sql = """
            INSERT INTO audit_log (tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, details, ip, user_agent)
            VALUES (@TenantId, @Id, @At, @ActorType, @ActorId, @Action, @TargetType, @TargetId, @Details, @Ip, @UserAgent)
            """;
        connection.Execute(sql, entry, transaction);
    }

    /// <summary>Newest first, in [from, to), optionally one action or action prefix (<c>pipeline.</c>) and one actor id.</summary>
    public IReadOnlyList<AuditEntry> List(string tenantId, long from, long to, string? action, int limit, (long At, string Id)? before, string? actorId = null)
    {
        const string sql = """
            SELECT tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, details, ip, user_agent FROM audit_log
            WHERE tenant_id = @tenantId AND at >= @from AND at < @to
              AND (@action IS NULL OR action = @action OR (@action LIKE '%.' AND substr(action, 1, length(@action)) = @action))
              AND (@actorId IS NULL OR actor_id = @actorId)
              AND (@beforeAt IS NULL OR at < @beforeAt OR (at = @beforeAt AND id < @beforeId))
            ORDER BY at DESC, id DESC LIMIT @limit
            """;
        using var connection = database.OpenConnection();
        return connection.Query<AuditEntry>(sql, new { tenantId, from, to, action, actorId, limit, beforeAt = before?.At, beforeId = before?.Id }).AsList();
    }

    /// <summary>Oldest first, streamed, for export.</summary>
    public IEnumerable<AuditEntry> Export(string tenantId, long from, long to)
    {
        const string sql = """
            SELECT tenant_id, id, at, actor_type, actor_id, action, target_type, target_id, details, ip, user_agent FROM audit_log
            WHERE tenant_id = @tenantId AND at >= @from AND at < @to ORDER BY at, id
            """;
        using var connection = database.OpenConnection();
        foreach (var entry in connection.Query<AuditEntry>(sql, new { tenantId, from, to }, buffered: false))
        {
            yield return entry;
        }
    }
}
