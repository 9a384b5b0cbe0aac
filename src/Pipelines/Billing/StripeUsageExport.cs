using System.Security.Cryptography;
using System.Text;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Billing;

/// <summary>A usage event still to be sent to Stripe as a meter event, with the tenant's Stripe customer (and the model, for tokens).</summary>
public sealed record PendingMeterEvent(string TenantId, string Meter, string IdempotencyKey, long Quantity, long OccurredAt, string StripeCustomerId, string? Model = null)
{
    /// <summary>
    /// The meter event's <c>identifier</c>: the ledger's idempotency key with its meter (the gateway uses
    /// one key for its three meters), hashed when longer than Stripe's 100 characters.
    /// </summary>
    public string Identifier => $"{Meter}:{IdempotencyKey}" is var id && id.Length <= 100
        ? id
        : $"{Meter}:{Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(IdempotencyKey)))}";
}

/// <summary>The ledger's side of the meter event outbox: what Stripe has not acknowledged yet, and marking what it has.</summary>
public sealed class StripeUsageExport(Database database, TimeProvider time)
{
    /// <summary>Oldest first; only tenants that have a Stripe customer (others wait for theirs).</summary>
    public IReadOnlyList<PendingMeterEvent> Pending(int max)
    {
        const string sql = """
            SELECT u.tenant_id, u.meter, u.idempotency_key, u.quantity, u.occurred_at, b.stripe_customer_id, u.model
            FROM usage_events u
            JOIN tenant_billing b ON b.tenant_id = u.tenant_id AND b.stripe_customer_id IS NOT NULL
            WHERE NOT EXISTS (SELECT 1 FROM stripe_meter_events_sent s
                              WHERE s.tenant_id = u.tenant_id AND s.meter = u.meter AND s.idempotency_key = u.idempotency_key)
            ORDER BY u.occurred_at
            LIMIT @max
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PendingMeterEvent>(sql, new { max }).AsList();
    }

    /// <summary>Records Stripe's acceptance of a batch in one transaction.</summary>
    public Task MarkSentAsync(IReadOnlyList<PendingMeterEvent> sent, CancellationToken cancellationToken)
    {
        if (sent.Count == 0)
        {
            return Task.CompletedTask;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO stripe_meter_events_sent (tenant_id, meter, idempotency_key, identifier, stripe_customer_id, sent_at)
                VALUES (@TenantId, @Meter, @IdempotencyKey, @Identifier, @StripeCustomerId, @now)
                ON CONFLICT DO NOTHING
                """;
            connection.Execute(sql, sent.Select(e => new { e.TenantId, e.Meter, e.IdempotencyKey, e.Identifier, e.StripeCustomerId, now }), transaction);
        }, cancellationToken);
    }

    /// <summary>Records a webhook event id; false when it was handled before.</summary>
    public Task<bool> RecordWebhookEventAsync(string eventId, string type, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO stripe_webhook_events (event_id, type, received_at) VALUES (@eventId, @type, @now) ON CONFLICT DO NOTHING
                """;
            return connection.Execute(sql, new { eventId, type, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction) > 0;
        }, cancellationToken);

    public bool WebhookEventSeen(string eventId)
    {
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<long>("SELECT COUNT(*) FROM stripe_webhook_events WHERE event_id = @eventId", new { eventId }) > 0;
    }

    public Task SaveReconciliationAsync(DateTimeOffset from, DateTimeOffset to, int differences, string report, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO reconciliation_reports (created_at, period_from, period_to, differences, report) VALUES (@now, @from, @to, @differences, @report)
                """;
            connection.Execute(sql, new { now = time.GetUtcNow().ToUnixTimeMilliseconds(), from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds(), differences, report }, transaction);
        }, cancellationToken);

    /// <returns>The latest report (JSON), or null.</returns>
    public string? LatestReconciliation()
    {
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<string?>("SELECT report FROM reconciliation_reports ORDER BY id DESC LIMIT 1");
    }

    /// <summary>Per (tenant, meter): the ledger's total and what was acknowledged by Stripe, in [from, to).</summary>
    public IReadOnlyList<(string TenantId, string Customer, string Meter, long Ledger, long Sent)> LedgerTotals(DateTimeOffset from, DateTimeOffset to)
    {
        const string sql = """
            SELECT u.tenant_id, b.stripe_customer_id, u.meter, CAST(SUM(u.quantity) AS BIGINT),
                   CAST(SUM(CASE WHEN s.idempotency_key IS NULL THEN 0 ELSE u.quantity END) AS BIGINT)
            FROM usage_events u
            JOIN tenant_billing b ON b.tenant_id = u.tenant_id AND b.stripe_customer_id IS NOT NULL
            LEFT JOIN stripe_meter_events_sent s ON s.tenant_id = u.tenant_id AND s.meter = u.meter AND s.idempotency_key = u.idempotency_key
            WHERE u.occurred_at >= @from AND u.occurred_at < @to
            GROUP BY u.tenant_id, b.stripe_customer_id, u.meter
            ORDER BY u.tenant_id, u.meter
            """;
        using var connection = database.OpenConnection();
        return connection.Query<(string, string, string, long, long)>(sql, new { from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds() }).AsList();
    }
}
