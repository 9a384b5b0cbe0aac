using Dapper;
using System.Data.Common;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Billing;

public sealed record BillingCommand(long Id, string TenantId, string Kind, long Attempts);

/// <summary>
/// Work for Stripe written in the transaction of what causes it (tenant sign-up, a plan change), and
/// relayed later: sign-up never fails because Stripe is down.
/// </summary>
public sealed class BillingOutbox(Database database, TimeProvider time)
{
    public const string CreateCustomer = "create_customer";
    public const string SyncSubscription = "sync_subscription";

    public static void Enqueue(DbConnection connection, DbTransaction transaction, string tenantId, string kind, DateTimeOffset now)
    {
        const string sql = """
            INSERT INTO billing_outbox (tenant_id, kind, created_at, next_attempt_at) VALUES (@tenantId, @kind, @now, @now)
            """;
        connection.Execute(sql, new { tenantId, kind, now = now.ToUnixTimeMilliseconds() }, transaction);
    }

    /// <summary>
    /// A plan got a new price version: every subscribed tenant on it has its subscription re-synced when the
    /// version takes effect (the relay does not pick the command up before), so the items swap at that month's start.
    /// </summary>
    public static void EnqueuePlanResync(DbConnection connection, DbTransaction transaction, string planId, DateTimeOffset effectiveFrom, DateTimeOffset now)
    {
        const string sql = """
            INSERT INTO billing_outbox (tenant_id, kind, created_at, next_attempt_at)
            SELECT tenant_id, @kind, @now, @due FROM tenant_billing WHERE plan_id = @planId AND stripe_subscription_id IS NOT NULL
            """;
        connection.Execute(sql, new { kind = SyncSubscription, planId, now = now.ToUnixTimeMilliseconds(), due = Math.Max(effectiveFrom.ToUnixTimeMilliseconds(), now.ToUnixTimeMilliseconds()) }, transaction);
    }

    public IReadOnlyList<BillingCommand> Due(int max)
    {
        const string sql = """
            SELECT id, tenant_id, kind, attempts FROM billing_outbox
            WHERE done_at IS NULL AND next_attempt_at <= @now ORDER BY id LIMIT @max
            """;
        using var connection = database.OpenConnection();
        return connection.Query<BillingCommand>(sql, new { now = time.GetUtcNow().ToUnixTimeMilliseconds(), max }).AsList();
    }

    public Task CompleteAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
            connection.Execute("UPDATE billing_outbox SET done_at = @now, last_error = NULL WHERE id = @id", new { id, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction),
            cancellationToken);

    public Task RetryLaterAsync(long id, string error, TimeSpan delay, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
            connection.Execute("UPDATE billing_outbox SET attempts = attempts + 1, last_error = @error, next_attempt_at = @next WHERE id = @id",
                new { id, error, next = (time.GetUtcNow() + delay).ToUnixTimeMilliseconds() }, transaction),
            cancellationToken);
}
