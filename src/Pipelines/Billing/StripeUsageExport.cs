using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Billing;

/// <summary>
/// A meter event for Stripe: the sum of a tenant's usage events of one meter (and model, for tokens) in one minute,
/// recorded under its <see cref="Identifier"/> before it is sent.
/// </summary>
public sealed record PendingMeterEvent(string Identifier, string TenantId, string Meter, long Quantity, long OccurredAt, string StripeCustomerId, string? Model = null);

/// <summary>
/// The ledger's side of the meter event outbox. Usage events not yet in a meter event are summed per tenant, meter, model
/// and minute into meter events, recorded with the usage events they sum in one transaction; then each is sent until Stripe
/// has acknowledged it. One event per minute and meter, however many step executions or calls: Stripe takes a request per
/// meter event, so one per usage event could never keep up with a busy tenant.
/// </summary>
public sealed class StripeUsageExport(Database database, TimeProvider time)
{
    /// <summary>
    /// Sums up to <paramref name="maxUsageEvents"/> usage events (oldest first) into new meter events. The usage is read
    /// outside the writer; if another node summed some of it meanwhile, the write fails on the usage's key and changes
    /// nothing (the next pass reads again).
    /// </summary>
    /// <returns>How many usage events were summed.</returns>
    public async Task<int> RecordMeterEventsAsync(int maxUsageEvents, CancellationToken cancellationToken)
    {
        // Only tenants that have a Stripe customer: the others' usage waits for theirs.
        const string pending = """
            SELECT u.tenant_id, b.stripe_customer_id, u.meter, u.model, u.idempotency_key, u.quantity, u.occurred_at
            FROM usage_events u
            JOIN tenant_billing b ON b.tenant_id = u.tenant_id AND b.stripe_customer_id IS NOT NULL
            WHERE NOT EXISTS (SELECT 1 FROM stripe_meter_event_usage s
                              WHERE s.tenant_id = u.tenant_id AND s.meter = u.meter AND s.idempotency_key = u.idempotency_key)
            ORDER BY u.occurred_at
            LIMIT @maxUsageEvents
            """;
        const string insertEvent = """
            INSERT INTO stripe_meter_events (identifier, tenant_id, stripe_customer_id, meter, model, quantity, occurred_at, created_at)
            VALUES (@Identifier, @TenantId, @StripeCustomerId, @Meter, @Model, @Quantity, @OccurredAt, @now)
            """;
        const string insertUsage = """
            INSERT INTO stripe_meter_event_usage (tenant_id, meter, idempotency_key, identifier) VALUES (?1, ?2, ?3, ?4)
            """;
        const string insertUsagePostgres = """
            INSERT INTO stripe_meter_event_usage (tenant_id, meter, idempotency_key, identifier)
            SELECT value ->> 0, value ->> 1, value ->> 2, value ->> 3 FROM jsonb_array_elements(CAST(convert_from(@rows, 'UTF8') AS jsonb))
            """;
        List<(string TenantId, string Customer, string Meter, string? Model, string IdempotencyKey, long Quantity, long OccurredAt)> usage;
        using (var connection = database.OpenConnection())
        {
            usage = connection.Query<(string, string, string, string?, string, long, long)>(pending, new { maxUsageEvents }).AsList();
        }
        if (usage.Count == 0)
        {
            return 0;
        }
        var meterEvents = usage.GroupBy(u => (u.TenantId, u.Customer, u.Meter, u.Model, Minute: u.OccurredAt / 60_000))
            .Select(group => (Event: new PendingMeterEvent(Ids.New("mev"), group.Key.TenantId, group.Key.Meter, group.Sum(u => u.Quantity),
                group.Max(u => u.OccurredAt), group.Key.Customer, group.Key.Model), Usage: group.ToList()))
            .ToList();
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync((connection, transaction) =>
        {
            foreach (var (meterEvent, summed) in meterEvents)
            {
                connection.Execute(insertEvent, new
                {
                    meterEvent.Identifier, meterEvent.TenantId, meterEvent.StripeCustomerId, meterEvent.Meter, meterEvent.Model, meterEvent.Quantity, meterEvent.OccurredAt, now,
                }, transaction);
                BatchInsert.Run(connection, transaction, insertUsage, insertUsagePostgres, summed, (row, u) =>
                {
                    row.Text(u.TenantId);
                    row.Text(u.Meter);
                    row.Text(u.IdempotencyKey);
                    row.Text(meterEvent.Identifier);
                });
            }
        }, cancellationToken);
        return usage.Count;
    }

    /// <summary>Meter events Stripe has not acknowledged yet, oldest first.</summary>
    public IReadOnlyList<PendingMeterEvent> Unsent(int max)
    {
        const string sql = """
            SELECT identifier, tenant_id, meter, quantity, occurred_at, stripe_customer_id, model
            FROM stripe_meter_events WHERE sent_at IS NULL
            ORDER BY created_at, occurred_at
            LIMIT @max
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PendingMeterEvent>(sql, new { max }).AsList();
    }

    /// <summary>Records Stripe's acceptance of meter events in one transaction.</summary>
    public Task MarkSentAsync(IReadOnlyList<PendingMeterEvent> sent, CancellationToken cancellationToken)
    {
        if (sent.Count == 0)
        {
            return Task.CompletedTask;
        }
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return database.WriteAsync((connection, transaction) =>
        {
            const string sql = "UPDATE stripe_meter_events SET sent_at = @now WHERE identifier = @Identifier AND sent_at IS NULL";
            connection.Execute(sql, sent.Select(e => new { e.Identifier, now }), transaction);
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
                   CAST(SUM(CASE WHEN e.identifier IS NULL THEN 0 ELSE u.quantity END) AS BIGINT)
            FROM usage_events u
            JOIN tenant_billing b ON b.tenant_id = u.tenant_id AND b.stripe_customer_id IS NOT NULL
            LEFT JOIN stripe_meter_event_usage s ON s.tenant_id = u.tenant_id AND s.meter = u.meter AND s.idempotency_key = u.idempotency_key
            LEFT JOIN stripe_meter_events e ON e.identifier = s.identifier AND e.sent_at IS NOT NULL
            WHERE u.occurred_at >= @from AND u.occurred_at < @to
            GROUP BY u.tenant_id, b.stripe_customer_id, u.meter
            ORDER BY u.tenant_id, u.meter
            """;
        using var connection = database.OpenConnection();
        return connection.Query<(string, string, string, long, long)>(sql, new { from = from.ToUnixTimeMilliseconds(), to = to.ToUnixTimeMilliseconds() }).AsList();
    }
}
