using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using Dapper;
using System.Data.Common;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Billing;

public static class BillingStates
{
    public const string Active = "active";

    /// <summary>A payment failed: work goes on until the grace period ends.</summary>
    public const string PastDue = "past_due";

    /// <summary>The Stripe subscription was cancelled; the ledger goes on counting.</summary>
    public const string Canceled = "canceled";
}

/// <summary>A tenant's billing settings and state; a tenant without a row has the defaults.</summary>
public sealed record TenantBilling(
    string TenantId, string? PlanId, decimal? CapUsd, IReadOnlyList<int> AlertThresholds, string State, string? StateReason,
    long? GraceUntil, string? SuspendedReason, string? StripeCustomerId, string? StripeSubscriptionId)
{
    public static IReadOnlyList<int> DefaultThresholds { get; } = [50, 80, 100];

    public static TenantBilling Default(string tenantId) => new(tenantId, null, null, DefaultThresholds, BillingStates.Active, null, null, null, null, null);

    /// <summary>Why new work is refused regardless of spending (suspension, unpaid after the grace period), or null.</summary>
    public string? Refusal(DateTimeOffset now)
    {
        if (SuspendedReason is not null)
        {
            return $"This tenant is suspended by the platform administrators: {SuspendedReason}. Runs and gateway calls are refused until it is resumed; contact support.";
        }
        if (State == BillingStates.PastDue && GraceUntil is { } grace && grace <= now.ToUnixTimeMilliseconds())
        {
            return $"Payment failed ({StateReason ?? "invoice unpaid"}) and the grace period ended on {DateTimeOffset.FromUnixTimeMilliseconds(grace):yyyy-MM-dd HH:mm} UTC. "
                + "Pipelines are paused and the gateway refuses calls until the invoice is paid: open the billing portal (POST /api/v1/billing/portal-session) to pay it.";
        }
        return null;
    }
}

public sealed record BillingAlert(string Month, int Threshold, decimal AmountUsd, decimal CapUsd, long SentAt);

/// <summary>Tenants' plans, caps, billing states and Stripe ids. Reads are cached briefly: they are on every run's admission.</summary>
public sealed class TenantBillingStore(Database database, TimeProvider time)
{
    private static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, (TenantBilling Billing, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    private const string Columns = """
        tenant_id, plan_id, cap_usd, alert_thresholds, state, state_reason, grace_until, suspended_reason, stripe_customer_id, stripe_subscription_id
        """;

    /// <summary>The tenant's billing settings, up to <see cref="CacheTime"/> old (changes made on this node show at once).</summary>
    public TenantBilling Get(string tenantId) =>
        _cache.TryGetValue(tenantId, out var cached) && cached.Until > time.GetUtcNow() ? cached.Billing : GetCurrent(tenantId);

    /// <summary>
    /// The settings as committed now, read past the cache: for acting on an outbox command, which is written in the
    /// transaction of the change it follows, so a cached copy may predate that change.
    /// </summary>
    public TenantBilling GetCurrent(string tenantId)
    {
        const string sql = $"SELECT {Columns} FROM tenant_billing WHERE tenant_id = @tenantId";
        using var connection = database.OpenConnection();
        var billing = connection.Query<Row>(sql, new { tenantId }).Select(r => r.ToBilling()).FirstOrDefault() ?? TenantBilling.Default(tenantId);
        _cache[tenantId] = (billing, time.GetUtcNow() + CacheTime);
        return billing;
    }

    public bool TenantExists(string tenantId)
    {
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<long>("SELECT COUNT(*) FROM tenants WHERE id = @tenantId", new { tenantId }) > 0;
    }

    /// <summary>Every tenant with its billing row (or the defaults), for the platform administrators.</summary>
    public IReadOnlyList<(string TenantId, string Name, TenantBilling Billing)> ListTenants() => LoadTenants(null);

    /// <summary>One tenant with its billing row (or the defaults); null when there is no such tenant.</summary>
    public (string TenantId, string Name, TenantBilling Billing)? FindTenant(string tenantId) =>
        LoadTenants(tenantId) is [var tenant] ? tenant : null;

    private List<(string TenantId, string Name, TenantBilling Billing)> LoadTenants(string? tenantId)
    {
        const string sql = $"""
            SELECT t.id AS tenant_id, t.name, b.plan_id, b.cap_usd, b.alert_thresholds, b.state, b.state_reason, b.grace_until, b.suspended_reason, b.stripe_customer_id, b.stripe_subscription_id
            FROM tenants t LEFT JOIN tenant_billing b ON b.tenant_id = t.id
            WHERE (@tenantId IS NULL OR t.id = @tenantId)
            ORDER BY t.name, t.id
            """;
        using var connection = database.OpenConnection();
        return connection.Query<NamedRow>(sql, new { tenantId }).Select(r => (r.TenantId, r.Name, r.ToRow().ToBilling())).ToList();
    }

    public string? FindTenantByCustomer(string customerId)
    {
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<string?>("SELECT tenant_id FROM tenant_billing WHERE stripe_customer_id = @customerId", new { customerId });
    }

    /// <summary>Assigns a plan; the Stripe subscription follows through the outbox, in the same transaction.</summary>
    public Task<bool> AssignPlanAsync(string tenantId, string planId, CancellationToken cancellationToken) =>
        UpdateAsync(tenantId, "UPDATE tenant_billing SET plan_id = @planId, updated_at = @now WHERE tenant_id = @tenantId", new { planId }, cancellationToken,
            (connection, transaction) => BillingOutbox.Enqueue(connection, transaction, tenantId, BillingOutbox.SyncSubscription, time.GetUtcNow()));

    public Task<bool> SetCapAsync(string tenantId, decimal? capUsd, IReadOnlyList<int> thresholds, CancellationToken cancellationToken) =>
        UpdateAsync(tenantId, "UPDATE tenant_billing SET cap_usd = @cap, alert_thresholds = @thresholds, updated_at = @now WHERE tenant_id = @tenantId",
            new { cap = capUsd?.ToString(CultureInfo.InvariantCulture), thresholds = JsonSerializer.Serialize(thresholds) }, cancellationToken);

    /// <summary>The addresses spending alerts go to, in the order they were added.</summary>
    public IReadOnlyList<string> Contacts(string tenantId)
    {
        const string sql = "SELECT email FROM billing_contacts WHERE tenant_id = @tenantId ORDER BY added_at, email";
        using var connection = database.OpenConnection();
        return connection.Query<string>(sql, new { tenantId }).AsList();
    }

    /// <summary>Replaces the tenant's billing contacts.</summary>
    /// <returns>False when the tenant does not exist.</returns>
    public async Task<bool> SetContactsAsync(string tenantId, IReadOnlyList<string> emails, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            if (connection.ExecuteScalar<long>("SELECT COUNT(*) FROM tenants WHERE id = @tenantId", new { tenantId }, transaction) == 0)
            {
                return false;
            }
            var now = time.GetUtcNow().ToUnixTimeMilliseconds();
            connection.Execute("DELETE FROM billing_contacts WHERE tenant_id = @tenantId", new { tenantId }, transaction);
            const string insert = "INSERT INTO billing_contacts (tenant_id, email, added_at) VALUES (@tenantId, @email, @addedAt)";
            connection.Execute(insert, emails.Select((email, i) => new { tenantId, email, addedAt = now + i }), transaction);
            return true;
        }, cancellationToken);

    public Task<bool> SetSuspensionAsync(string tenantId, string? reason, CancellationToken cancellationToken) =>
        UpdateAsync(tenantId, "UPDATE tenant_billing SET suspended_reason = @reason, updated_at = @now WHERE tenant_id = @tenantId", new { reason }, cancellationToken);

    public Task<bool> SetStateAsync(string tenantId, string state, string? reason, DateTimeOffset? graceUntil, CancellationToken cancellationToken) =>
        UpdateAsync(tenantId, "UPDATE tenant_billing SET state = @state, state_reason = @reason, grace_until = @grace, updated_at = @now WHERE tenant_id = @tenantId",
            new { state, reason, grace = graceUntil?.ToUnixTimeMilliseconds() }, cancellationToken);

    public Task<bool> SetStripeIdsAsync(string tenantId, string? customerId, string? subscriptionId, CancellationToken cancellationToken) =>
        UpdateAsync(tenantId, """
            UPDATE tenant_billing SET stripe_customer_id = COALESCE(@customerId, stripe_customer_id),
              stripe_subscription_id = COALESCE(@subscriptionId, stripe_subscription_id), updated_at = @now
            WHERE tenant_id = @tenantId
            """, new { customerId, subscriptionId }, cancellationToken);

    public Task<bool> ClearSubscriptionAsync(string tenantId, CancellationToken cancellationToken) =>
        UpdateAsync(tenantId, "UPDATE tenant_billing SET stripe_subscription_id = NULL, updated_at = @now WHERE tenant_id = @tenantId", new { }, cancellationToken);

    /// <summary>Records that a threshold alerted this month; false when it already had.</summary>
    public async Task<bool> RecordAlertAsync(string tenantId, string month, int threshold, decimal amountUsd, decimal capUsd, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO billing_alerts (tenant_id, month, threshold, amount_usd, cap_usd, sent_at) VALUES (@tenantId, @month, @threshold, @amount, @cap, @now)
                ON CONFLICT (tenant_id, month, threshold) DO NOTHING
                """;
            return connection.Execute(sql, new
            {
                tenantId, month, threshold, amount = amountUsd.ToString(CultureInfo.InvariantCulture), cap = capUsd.ToString(CultureInfo.InvariantCulture),
                now = time.GetUtcNow().ToUnixTimeMilliseconds(),
            }, transaction) > 0;
        }, cancellationToken);

    public IReadOnlyList<BillingAlert> Alerts(string tenantId, string month)
    {
        const string sql = """
            SELECT month, threshold, amount_usd, cap_usd, sent_at FROM billing_alerts WHERE tenant_id = @tenantId AND month = @month ORDER BY threshold
            """;
        using var connection = database.OpenConnection();
        return connection.Query<(string Month, long Threshold, string Amount, string Cap, long SentAt)>(sql, new { tenantId, month })
            .Select(a => new BillingAlert(a.Month, (int)a.Threshold, decimal.Parse(a.Amount, CultureInfo.InvariantCulture), decimal.Parse(a.Cap, CultureInfo.InvariantCulture), a.SentAt))
            .ToList();
    }

    /// <returns>False when the tenant does not exist.</returns>
    private async Task<bool> UpdateAsync(string tenantId, string update, object values, CancellationToken cancellationToken, Action<DbConnection, DbTransaction>? also = null)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var parameters = new DynamicParameters(values);
        parameters.Add("tenantId", tenantId);
        parameters.Add("now", now);
        var updated = await database.WriteAsync((connection, transaction) =>
        {
            const string ensure = """
                INSERT INTO tenant_billing (tenant_id, updated_at) SELECT id, @now FROM tenants WHERE id = @tenantId
                ON CONFLICT (tenant_id) DO NOTHING
                """;
            connection.Execute(ensure, new { tenantId, now }, transaction);
            var changed = connection.Execute(update, parameters, transaction) > 0;
            if (changed)
            {
                also?.Invoke(connection, transaction);
            }
            return changed;
        }, cancellationToken);
        _cache.TryRemove(tenantId, out _);
        return updated;
    }

    private sealed record Row(
        string TenantId, string? PlanId, string? CapUsd, string? AlertThresholds, string? State, string? StateReason,
        long? GraceUntil, string? SuspendedReason, string? StripeCustomerId, string? StripeSubscriptionId)
    {
        public TenantBilling ToBilling() => new(
            TenantId, PlanId, CapUsd is null ? null : decimal.Parse(CapUsd, CultureInfo.InvariantCulture),
            AlertThresholds is null ? TenantBilling.DefaultThresholds : JsonSerializer.Deserialize<int[]>(AlertThresholds)!,
            State ?? BillingStates.Active, StateReason, GraceUntil, SuspendedReason, StripeCustomerId, StripeSubscriptionId);
    }

    private sealed record NamedRow(
        string TenantId, string Name, string? PlanId, string? CapUsd, string? AlertThresholds, string? State, string? StateReason,
        long? GraceUntil, string? SuspendedReason, string? StripeCustomerId, string? StripeSubscriptionId)
    {
        public Row ToRow() => new(TenantId, PlanId, CapUsd, AlertThresholds, State, StateReason, GraceUntil, SuspendedReason, StripeCustomerId, StripeSubscriptionId);
    }
}
