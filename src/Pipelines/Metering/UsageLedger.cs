using Dapper;
using System.Data.Common;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Metering;

public static class Meters
{
    public const string StepExecutions = "step_executions";
    public const string GatewayRequests = "gateway_requests";
    public const string LlmInputTokens = "llm_input_tokens";
    public const string LlmOutputTokens = "llm_output_tokens";
}

public enum UsageGrouping { Meter, Pipeline, Day, Model }

/// <summary>A meter's total for one group: the pipeline id, the UTC day (yyyy-MM-dd) or the model; null when grouped by meter alone.</summary>
public sealed record UsageTotal(string Meter, string? Group, long Quantity);

/// <summary>A quantity of one meter (and model, for the LLM meters).</summary>
public sealed record UsageQuantity(string Meter, string? Model, long Quantity);

public sealed record UsageEvent(string TenantId, string Meter, long Quantity, string IdempotencyKey, string? PipelineId, string? RunId, long OccurredAt)
{
    /// <summary>The upstream model, for LLM meters.</summary>
    public string? Model { get; init; }
}

/// <summary>The usage ledger: the source of truth for billing. The same idempotency key twice is one event.</summary>
public sealed class UsageLedger(Database database)
{
    public static void Append(DbConnection connection, DbTransaction transaction, UsageEvent usage) => AppendMany(connection, transaction, [usage]);

    /// <summary>Many events in one go (<see cref="BatchInsert"/>).</summary>
    public static void AppendMany(DbConnection connection, DbTransaction transaction, IReadOnlyCollection<UsageEvent> events)
    {
        const string sqlite = """
            INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, pipeline_id, run_id, occurred_at, model)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)
            ON CONFLICT (tenant_id, meter, idempotency_key) DO NOTHING
            """;
        // PostgreSQL receives the UTF-8 bytes as bytea and types each column itself.
        const string postgres = """
            INSERT INTO usage_events (tenant_id, meter, quantity, idempotency_key, pipeline_id, run_id, occurred_at, model)
            SELECT value ->> 0, value ->> 1, CAST(value ->> 2 AS BIGINT), value ->> 3, value ->> 4, value ->> 5, CAST(value ->> 6 AS BIGINT), value ->> 7
            FROM jsonb_array_elements(CAST(convert_from(@rows, 'UTF8') AS jsonb))
            ON CONFLICT (tenant_id, meter, idempotency_key) DO NOTHING
            """;
        BatchInsert.Run(connection, transaction, sqlite, postgres, events, static (row, usage) =>
        {
            row.Text(usage.TenantId);
            row.Text(usage.Meter);
            row.Integer(usage.Quantity);
            row.Text(usage.IdempotencyKey);
            row.Text(usage.PipelineId);
            row.Text(usage.RunId);
            row.Integer(usage.OccurredAt);
            row.Text(usage.Model);
        });
    }

    /// <summary>The tenant's usage in [from, to), per meter and group.</summary>
    public IReadOnlyList<UsageTotal> Totals(string tenantId, DateTimeOffset from, DateTimeOffset to, UsageGrouping groupBy)
    {
        const string byMeter = """
            SELECT meter, NULL AS "group", CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_events
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
            GROUP BY meter ORDER BY meter
            """;
        const string byPipeline = """
            SELECT meter, pipeline_id AS "group", CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_events
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
            GROUP BY meter, pipeline_id ORDER BY meter, pipeline_id
            """;
        const string byDay = """
            SELECT meter, strftime('%Y-%m-%d', occurred_at / 1000, 'unixepoch') AS "group", CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_events
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
            GROUP BY meter, 2 ORDER BY 2, meter
            """;
        const string byDayPostgres = """
            SELECT meter, to_char(to_timestamp(occurred_at / 1000) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS "group", CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_events
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
            GROUP BY meter, 2 ORDER BY 2, meter
            """;
        const string byModel = """
            SELECT meter, model AS "group", CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_events
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
            GROUP BY meter, model ORDER BY meter, model
            """;
        var sql = groupBy switch
        {
            UsageGrouping.Pipeline => byPipeline,
            UsageGrouping.Day => database.Dialect == SqlDialect.Postgres ? byDayPostgres : byDay,
            UsageGrouping.Model => byModel,
            _ => byMeter,
        };
        using var connection = database.OpenConnection();
        using var reader = connection.ExecuteReader(sql, new { tenantId, from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds() });
        var totals = new List<UsageTotal>();
        while (reader.Read())
        {
            totals.Add(new UsageTotal(reader.GetString(0), reader.IsDBNull(1) ? null : reader.GetString(1), reader.GetInt64(2)));
        }
        return totals;
    }

    /// <summary>The tenant's quantities per meter and model in [from, to); <paramref name="ofRuns"/> keeps only usage of runs (true) or only the rest (false).</summary>
    public IReadOnlyList<UsageQuantity> Quantities(string tenantId, DateTimeOffset from, DateTimeOffset to, bool? ofRuns = null)
    {
        const string sql = """
            SELECT meter, model, CAST(SUM(quantity) AS BIGINT) AS quantity FROM usage_events
            WHERE tenant_id = @tenantId AND occurred_at >= @from AND occurred_at < @to
              AND (@ofRuns IS NULL OR (run_id IS NOT NULL) = @ofRuns)
            GROUP BY meter, model
            """;
        using var connection = database.OpenConnection();
        return connection.Query<(string Meter, string? Model, long Quantity)>(sql, new { tenantId, from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds(), ofRuns })
            .Select(q => new UsageQuantity(q.Meter, q.Model, q.Quantity)).ToList();
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
