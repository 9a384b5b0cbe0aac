using Dapper;
using System.Data.Common;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Ai;

public static class AiRequestSources
{
    public const string Gateway = "gateway";
    public const string Step = "step";
}

/// <summary>One model call as the request log shows it. Bodies only when the tenant opted in.</summary>
public sealed record AiRequestEntry(
    string TenantId,
    string Id,
    string Source,
    string? KeyId,
    string? RunId,
    string Alias,
    string? Provider,
    string? Model,
    string Operation,
    int Status,
    bool Stream,
    bool Cached,
    long InputTokens,
    long OutputTokens,
    double CostUsd,
    double DurationMs,
    string? Error,
    string? RequestBody,
    string? ResponseBody,
    long CreatedAt);

/// <summary>The log of every model call (gateway and llm steps), newest first.</summary>
public sealed class AiRequestLog(Database database)
{
    public static void Append(DbConnection connection, DbTransaction transaction, AiRequestEntry entry) => AppendMany(connection, transaction, [entry]);

    /// <summary>Many entries in one go (<see cref="BatchInsert"/>).</summary>
    public static void AppendMany(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<AiRequestEntry> entries)
    {
        const string sqlite = """
            INSERT INTO ai_requests (tenant_id, id, source, key_id, run_id, alias, provider, model, operation, status, stream, cached,
              input_tokens, output_tokens, cost_usd, duration_ms, error, request_body, response_body, created_at)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)
            ON CONFLICT (tenant_id, id) DO NOTHING
            """;
        const string postgres = """
            INSERT INTO ai_requests (tenant_id, id, source, key_id, run_id, alias, provider, model, operation, status, stream, cached,
              input_tokens, output_tokens, cost_usd, duration_ms, error, request_body, response_body, created_at)
            SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3, value ->> 4, value ->> 5, value ->> 6, value ->> 7, value ->> 8,
              CAST(value ->> 9 AS INTEGER), CAST(value ->> 10 AS BIGINT), CAST(value ->> 11 AS BIGINT), CAST(value ->> 12 AS BIGINT),
              CAST(value ->> 13 AS BIGINT), CAST(value ->> 14 AS DOUBLE PRECISION), CAST(value ->> 15 AS DOUBLE PRECISION),
              value ->> 16, value ->> 17, value ->> 18, CAST(value ->> 19 AS BIGINT)
            FROM jsonb_array_elements(CAST(convert_from(@rows, 'UTF8') AS jsonb))
            ON CONFLICT (tenant_id, id) DO NOTHING
            """;
        BatchInsert.Run(connection, transaction, sqlite, postgres, entries, static (row, entry) =>
        {
            row.Text(entry.TenantId);
            row.Text(entry.Id);
            row.Text(entry.Source);
            row.Text(entry.KeyId);
            row.Text(entry.RunId);
            row.Text(entry.Alias);
            row.Text(entry.Provider);
            row.Text(entry.Model);
            row.Text(entry.Operation);
            row.Integer(entry.Status);
            row.Integer(entry.Stream ? 1 : 0);
            row.Integer(entry.Cached ? 1 : 0);
            row.Integer(entry.InputTokens);
            row.Integer(entry.OutputTokens);
            row.Real(entry.CostUsd);
            row.Real(entry.DurationMs);
            row.Text(entry.Error);
            row.Text(entry.RequestBody);
            row.Text(entry.ResponseBody);
            row.Integer(entry.CreatedAt);
        });
    }

    public Task AppendAsync(AiRequestEntry entry, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) => Append(connection, transaction, entry), cancellationToken);

    /// <param name="before">The created_at/id cursor of the last entry of the previous page.</param>
    public IReadOnlyList<AiRequestEntry> List(string tenantId, int limit, (long CreatedAt, string Id)? before)
    {
        const string sql = """
            SELECT tenant_id, id, source, key_id, run_id, alias, provider, model, operation, status, stream, cached,
              input_tokens, output_tokens, cost_usd, duration_ms, error, request_body, response_body, created_at
            FROM ai_requests
            WHERE tenant_id = @tenantId AND (@createdAt IS NULL OR created_at < @createdAt OR (created_at = @createdAt AND id < @id))
            ORDER BY created_at DESC, id DESC LIMIT @limit
            """;
        using var connection = database.OpenConnection();
        using var reader = connection.ExecuteReader(sql, new { tenantId, limit, createdAt = before?.CreatedAt, id = before?.Id });
        var entries = new List<AiRequestEntry>();
        while (reader.Read())
        {
            string? Text(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
            entries.Add(new AiRequestEntry(
                reader.GetString(0), reader.GetString(1), reader.GetString(2), Text(3), Text(4), reader.GetString(5), Text(6), Text(7),
                reader.GetString(8), reader.GetInt32(9), reader.GetInt64(10) != 0, reader.GetInt64(11) != 0, reader.GetInt64(12), reader.GetInt64(13),
                reader.GetDouble(14), reader.GetDouble(15), Text(16), Text(17), Text(18), reader.GetInt64(19)));
        }
        return entries;
    }

    /// <summary>What the tenant (or one of its keys) spent on models since <paramref name="since"/>.</summary>
    public decimal SpentSince(string tenantId, string? keyId, long since)
    {
        const string byTenant = "SELECT COALESCE(SUM(cost_usd), 0) FROM ai_requests WHERE tenant_id = @tenantId AND created_at >= @since";
        const string byKey = "SELECT COALESCE(SUM(cost_usd), 0) FROM ai_requests WHERE tenant_id = @tenantId AND key_id = @keyId AND created_at >= @since";
        using var connection = database.OpenConnection();
        return (decimal)connection.ExecuteScalar<double>(keyId is null ? byTenant : byKey, new { tenantId, keyId, since });
    }
}
