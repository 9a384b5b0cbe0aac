using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Runs;

/// <summary>
/// The SQL-backed work queue. An item is enqueued inside the transaction that makes it necessary and
/// leased to this node at once, so the node can start it the moment the transaction commits; if the
/// node dies, the lease runs out and <see cref="LeaseDue"/> hands the item to whoever asks next.
/// </summary>
public sealed class WorkQueue(Database database, TimeProvider time, IOptions<FlowgateOptions> options)
{
    /// <summary>Identifies this process's leases; a restarted process is a new node.</summary>
    public string Node { get; } = $"{Environment.MachineName}/{Environment.ProcessId}/{Guid.NewGuid():N}";

    private long LeaseMilliseconds => options.Value.Runtime.LeaseSeconds * 1000L;

    private long Now => time.GetUtcNow().ToUnixTimeMilliseconds();

    public WorkItem Enqueue(DbConnection connection, DbTransaction transaction, string tenantId, string runId, string kind, long stepIndex, long chunk)
    {
        const string sql = """
            INSERT INTO work_items (tenant_id, run_id, kind, step_index, chunk, attempt, visible_at, lease_owner, lease_until)
            VALUES (@tenantId, @runId, @kind, @stepIndex, @chunk, 1, @now, @node, @leaseUntil)
            ON CONFLICT (run_id, kind, step_index, chunk) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
            RETURNING id
            """;
        var now = Now;
        var id = connection.Prepared(sql, transaction)
            .With("@tenantId", tenantId).With("@runId", runId).With("@kind", kind).With("@stepIndex", stepIndex).With("@chunk", chunk)
            .With("@now", now).With("@node", Node).With("@leaseUntil", now + LeaseMilliseconds)
            .ScalarInt64()!.Value;
        return new WorkItem(id, tenantId, runId, kind, stepIndex, chunk, 1);
    }

    /// <summary>Removes the item, unless it has moved on to a later step meanwhile (a stale duplicate completing).</summary>
    public void Complete(DbConnection connection, DbTransaction transaction, WorkItem item)
    {
        const string sql = "DELETE FROM work_items WHERE id = @Id AND kind = @Kind AND step_index = @StepIndex";
        connection.Prepared(sql, transaction).With("@Id", item.Id).With("@Kind", item.Kind).With("@StepIndex", item.StepIndex).ExecuteNonQuery();
    }

    /// <summary>Turns a finished item into a later step of the same chunk, still leased to this node: one write instead of two.</summary>
    public WorkItem Advance(DbConnection connection, DbTransaction transaction, WorkItem item, long nextStep)
    {
        const string sql = """
            UPDATE work_items SET step_index = @next, attempt = 1, last_error = NULL, lease_owner = @node, lease_until = @leaseUntil
            WHERE id = @Id AND step_index = @StepIndex
            """;
        connection.Prepared(sql, transaction).With("@Id", item.Id).With("@StepIndex", item.StepIndex).With("@next", nextStep)
            .With("@node", Node).With("@leaseUntil", Now + LeaseMilliseconds).ExecuteNonQuery();
        return item with { StepIndex = nextStep, Attempt = 1 };
    }

    public void RemoveAll(DbConnection connection, DbTransaction transaction, string tenantId, string runId)
    {
        const string sql = "DELETE FROM work_items WHERE tenant_id = @tenantId AND run_id = @runId";
        connection.Execute(sql, new { tenantId, runId }, transaction);
    }

    public void Retry(DbConnection connection, DbTransaction transaction, WorkItem item, DateTimeOffset visibleAt, string error)
    {
        const string sql = """
            UPDATE work_items SET attempt = attempt + 1, visible_at = @visibleAt, lease_owner = NULL, lease_until = NULL, last_error = @error
            WHERE id = @Id AND kind = @Kind AND step_index = @StepIndex
            """;
        connection.Execute(sql, new { item.Id, item.Kind, item.StepIndex, visibleAt = visibleAt.ToUnixTimeMilliseconds(), error }, transaction);
    }

    /// <summary>
    /// Leases items that are due and unowned (new retries, leases that ran out, work left unleased) to this
    /// node, sharing <paramref name="max"/> among the tenants that have such items, in turns, so one
    /// tenant's backlog does not fill every lease round (decision 024). On PostgreSQL several nodes lease
    /// at once: <c>FOR UPDATE SKIP LOCKED</c> lets each take rows the others are not taking, instead of
    /// waiting for them and then re-checking (SQLite has one writer).
    /// </summary>
    /// <param name="roomFor">How many more items of a tenant this node wants; all of them when not given.</param>
    public async Task<IReadOnlyList<WorkItem>> LeaseDue(int max, CancellationToken cancellationToken, Func<string, int>? roomFor = null)
    {
        const string tenantsSql = """
            SELECT DISTINCT tenant_id FROM work_items
            WHERE visible_at <= @now AND (lease_until IS NULL OR lease_until < @now)
            """;
        var now = Now;
        List<string> tenants;
        using (var connection = database.OpenConnection())
        {
            tenants = connection.Query<string>(tenantsSql, new { now }).AsList();
        }
        if (tenants.Count == 0 || max <= 0)
        {
            return [];
        }
        var first = (int)(Interlocked.Increment(ref _leaseRound) % tenants.Count);
        var share = Math.Max(1, max / tenants.Count);
        var plan = tenants.Skip(first).Concat(tenants.Take(first))
            .Select(tenantId => (TenantId: tenantId, Take: Math.Min(share, roomFor?.Invoke(tenantId) ?? share)))
            .Where(p => p.Take > 0)
            .ToList();
        return await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                UPDATE work_items SET lease_owner = @node, lease_until = @leaseUntil
                WHERE id IN (
                    SELECT id FROM work_items
                    WHERE tenant_id = @tenantId AND visible_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                    ORDER BY visible_at LIMIT @take)
                RETURNING id, tenant_id, run_id, kind, step_index, chunk, attempt
                """;
            const string postgres = """
                UPDATE work_items SET lease_owner = @node, lease_until = @leaseUntil
                WHERE id IN (
                    SELECT id FROM work_items
                    WHERE tenant_id = @tenantId AND visible_at <= @now AND (lease_until IS NULL OR lease_until < @now)
                    ORDER BY visible_at LIMIT @take
                    FOR UPDATE SKIP LOCKED)
                RETURNING id, tenant_id, run_id, kind, step_index, chunk, attempt
                """;
            var statement = database.Dialect == SqlDialect.Postgres ? postgres : sql;
            var leased = new List<WorkItem>();
            foreach (var (tenantId, take) in plan)
            {
                leased.AddRange(connection.Query<WorkItem>(statement, new { node = Node, leaseUntil = now + LeaseMilliseconds, now, tenantId, take }, transaction));
            }
            return (IReadOnlyList<WorkItem>)leased;
        }, cancellationToken);
    }

    private long _leaseRound;

    /// <summary>Keeps the leases of items waiting in this node's memory for a worker (a tenant at its cap) from running out.</summary>
    public async Task ExtendLeasesAsync(IReadOnlyList<WorkItem> items, CancellationToken cancellationToken)
    {
        foreach (var batch in items.Chunk(500))
        {
            await database.WriteAsync((connection, transaction) =>
            {
                const string sql = "UPDATE work_items SET lease_until = @until WHERE id IN @ids AND lease_owner = @node";
                const string postgres = "UPDATE work_items SET lease_until = @until WHERE id = ANY(@ids) AND lease_owner = @node";
                connection.Execute(database.Dialect == SqlDialect.Postgres ? postgres : sql, new { ids = batch.Select(i => i.Id).ToArray(), until = Now + LeaseMilliseconds, node = Node }, transaction);
            }, cancellationToken);
        }
    }

    /// <summary>On a graceful stop: gives this node's leases back so another node (or the restarted one) takes the work at once.</summary>
    public async Task<int> ReleaseLeasesAsync(CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "UPDATE work_items SET lease_owner = NULL, lease_until = NULL WHERE lease_owner = @node";
            return connection.Execute(sql, new { node = Node }, transaction);
        }, cancellationToken);

    /// <summary>
    /// Takes over an item delivered by a message (<see cref="StorageWorkQueue"/>), if it is still at the
    /// step and attempt the message names; false for a stale duplicate (done, moved on, or retried since).
    /// </summary>
    public async Task<bool> ClaimAsync(WorkItem item, CancellationToken cancellationToken) =>
        await database.WriteAsync(item.TenantId, (connection, transaction) =>
        {
            const string sql = """
                UPDATE work_items SET lease_owner = @node, lease_until = @until
                WHERE id = @Id AND tenant_id = @TenantId AND kind = @Kind AND step_index = @StepIndex AND attempt = @Attempt
                """;
            return connection.Execute(sql, new { item.Id, item.TenantId, item.Kind, item.StepIndex, item.Attempt, until = Now + LeaseMilliseconds, node = Node }, transaction) == 1;
        }, cancellationToken);

    /// <summary>The error the item's last failed attempt recorded, if any.</summary>
    public string? LastError(WorkItem item)
    {
        const string sql = "SELECT last_error FROM work_items WHERE id = @Id AND tenant_id = @TenantId";
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<string?>(sql, new { item.Id, item.TenantId });
    }

    /// <summary>Keeps a long step's lease alive; false if the item is no longer this node's.</summary>
    public async Task<bool> ExtendLeaseAsync(WorkItem item, CancellationToken cancellationToken) =>
        await database.WriteAsync(item.TenantId, (connection, transaction) =>
        {
            const string sql = "UPDATE work_items SET lease_until = @until WHERE id = @Id AND lease_owner = @node";
            return connection.Execute(sql, new { item.Id, until = Now + LeaseMilliseconds, node = Node }, transaction) == 1;
        }, cancellationToken);
}
