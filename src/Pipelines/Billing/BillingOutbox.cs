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

    /// <summary>How long a node holds the commands it claimed: longer than a Stripe call with its retries, so a command is sent by one node at a time.</summary>
    public static readonly TimeSpan Lease = TimeSpan.FromMinutes(10);

    /// <summary>Who this node is in <c>lease_owner</c>.</summary>
    public string Node { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    /// <summary>
    /// Claims up to <paramref name="max"/> due commands for this node under a lease, as the engine leases work items:
    /// on PostgreSQL <c>FOR UPDATE SKIP LOCKED</c> lets each node take rows no other is taking (without it, the second
    /// node would wait for the first and then update the same rows); SQLite has one writer, and the condition on the
    /// lease is evaluated inside it. A node that dies holding a claim loses it when the lease runs out (decision 028).
    /// </summary>
    public async Task<IReadOnlyList<BillingCommand>> ClaimDueAsync(int max, CancellationToken cancellationToken)
    {
        const string sql = """
            UPDATE billing_outbox SET lease_owner = @node, lease_until = @until
            WHERE id IN (
                SELECT id FROM billing_outbox
                WHERE done_at IS NULL AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                ORDER BY id LIMIT @max)
            RETURNING id, tenant_id, kind, attempts
            """;
        const string postgres = """
            UPDATE billing_outbox SET lease_owner = @node, lease_until = @until
            WHERE id IN (
                SELECT id FROM billing_outbox
                WHERE done_at IS NULL AND next_attempt_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                ORDER BY id LIMIT @max
                FOR UPDATE SKIP LOCKED)
            RETURNING id, tenant_id, kind, attempts
            """;
        var now = time.GetUtcNow();
        var claimed = await database.WriteAsync((connection, transaction) =>
            connection.Query<BillingCommand>(connection.Dialect() == SqlDialect.Postgres ? postgres : sql,
                new { node = Node, until = (now + Lease).ToUnixTimeMilliseconds(), now = now.ToUnixTimeMilliseconds(), max }, transaction).AsList(),
            cancellationToken);
        // RETURNING does not promise the subquery's order.
        return claimed.OrderBy(c => c.Id).ToList();
    }

    public Task CompleteAsync(long id, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
            connection.Execute("UPDATE billing_outbox SET done_at = @now, last_error = NULL, lease_owner = NULL, lease_until = NULL WHERE id = @id",
                new { id, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction),
            cancellationToken);

    public Task RetryLaterAsync(long id, string error, TimeSpan delay, CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
            connection.Execute("UPDATE billing_outbox SET attempts = attempts + 1, last_error = @error, next_attempt_at = @next, lease_owner = NULL, lease_until = NULL WHERE id = @id",
                new { id, error, next = (time.GetUtcNow() + delay).ToUnixTimeMilliseconds() }, transaction),
            cancellationToken);

    /// <summary>On a graceful stop: gives back what this node claimed but did not finish, so another node sends it at once.</summary>
    public Task ReleaseAsync(CancellationToken cancellationToken) =>
        database.WriteAsync((connection, transaction) =>
            connection.Execute("UPDATE billing_outbox SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = @node AND done_at IS NULL", new { node = Node }, transaction),
            cancellationToken);
}
