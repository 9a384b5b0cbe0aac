using Dapper;
using Microsoft.Data.Sqlite;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Metering;

public static class Meters
{
    public const string StepExecutions = "step_executions";
}

public sealed record UsageEvent(string TenantId, string Meter, long Quantity, string IdempotencyKey, string? PipelineId, string? RunId, long OccurredAt);

/// <summary>The usage ledger: the source of truth for billing. The same idempotency key twice is one event.</summary>
public sealed class UsageLedger(Database database)
{
    public static void Append(SqliteConnection connection, SqliteTransaction transaction, UsageEvent usage)
    {
        const string sql = """
            INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, pipeline_id, run_id, occurred_at)
            VALUES (@TenantId, @Meter, @Quantity, @IdempotencyKey, @PipelineId, @RunId, @OccurredAt)
            ON CONFLICT (tenant_id, meter, idempotency_key) DO NOTHING
            """;
        connection.Prepared(sql, transaction)
            .With("@TenantId", usage.TenantId).With("@Meter", usage.Meter).With("@Quantity", usage.Quantity).With("@IdempotencyKey", usage.IdempotencyKey)
            .With("@PipelineId", usage.PipelineId).With("@RunId", usage.RunId).With("@OccurredAt", usage.OccurredAt)
            .ExecuteNonQuery();
    }

    public IReadOnlyList<UsageEvent> ForRun(string tenantId, string runId)
    {
        const string sql = """
            SELECT tenant_id, meter, quantity, idempotency_key, pipeline_id, run_id, occurred_at FROM usage_events
            WHERE tenant_id = @tenantId AND run_id = @runId ORDER BY occurred_at, idempotency_key
            """;
        using var connection = database.OpenConnection();
        return connection.Query<UsageEvent>(sql, new { tenantId, runId }).AsList();
    }
}
