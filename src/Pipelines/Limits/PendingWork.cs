using System.Collections.Concurrent;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Limits;

/// <summary>New work refused because the tenant has too much pending already (answered 429).</summary>
public sealed class PendingWorkRefusedException(string message, long limit, long pending) : Exception(message)
{
    public long Limit { get; } = limit;

    public long Pending { get; } = pending;
}

/// <summary>
/// A tenant's pending work (queue messages not yet turned into runs, plus runs not finished) against its
/// <see cref="TenantLimitValues.MaxPendingWork"/>. The count is read from the database at most once a
/// second per tenant, and what this node admitted since is added to it, so a check usually reads nothing
/// and a flood from one node cannot slip past; other nodes' admissions arrive with the next read.
/// </summary>
public sealed class PendingWork(Database database, TenantLimits limits, TimeProvider time)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(1);

    private readonly ConcurrentDictionary<string, Count> _counts = new(StringComparer.Ordinal);

    /// <summary>Admits <paramref name="adding"/> pieces of new work all together, or none of them.</summary>
    /// <exception cref="PendingWorkRefusedException">They would take the tenant past its limit.</exception>
    public void Admit(string tenantId, int adding)
    {
        var limit = limits.For(tenantId).MaxPendingWork;
        var count = _counts.GetOrAdd(tenantId, _ => new Count());
        lock (count)
        {
            var now = time.GetUtcNow();
            if (now - count.ReadAt > Refresh)
            {
                count.Counted = Read(tenantId);
                count.ReadAt = now;
                count.AdmittedSince = 0;
            }
            var pending = count.Counted + count.AdmittedSince;
            if (pending + adding > limit)
            {
                throw new PendingWorkRefusedException(
                    $"This tenant has {pending:N0} pieces of pending work (queue messages not yet started and runs not finished) and may have at most {limit:N0}; " +
                    $"{adding:N0} more would pass that limit, so none were accepted. Retry once runs have finished (GET /api/v1/runs?status=queued shows the backlog), " +
                    "or ask the platform operator to raise the tenant's maxPendingWork (PUT /api/platform/v1/tenants/{id}/limits).",
                    limit, pending);
            }
            count.AdmittedSince += adding;
        }
    }

    private long Read(string tenantId)
    {
        const string sql = """
            SELECT (SELECT COUNT(*) FROM queue_messages WHERE tenant_id = @tenantId)
                 + (SELECT COUNT(*) FROM runs WHERE tenant_id = @tenantId AND status IN ('queued', 'running'))
            """;
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<long>(sql, new { tenantId });
    }

    private sealed class Count
    {
        public long Counted;
        public long AdmittedSince;
        public DateTimeOffset ReadAt = DateTimeOffset.MinValue;
    }
}
