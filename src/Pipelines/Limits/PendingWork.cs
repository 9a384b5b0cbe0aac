using System.Collections.Concurrent;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Limits;

/// <summary>New work refused by one of the tenant's limits: too much pending already, or submitted too fast.</summary>
/// <param name="limit">The limit's name in the API (<c>maxPendingWork</c>, <c>newWorkPerSecond</c>, <c>newWorkBurst</c>).</param>
/// <param name="retryAfter">When to try again; null when the same request can never pass (it is larger than the limit).</param>
public sealed class NewWorkRefusedException(string message, string limit, long limitValue, TimeSpan? retryAfter, long? pending = null) : Exception(message)
{
    public string Limit { get; } = limit;

    public long LimitValue { get; } = limitValue;

    public TimeSpan? RetryAfter { get; } = retryAfter;

    /// <summary>The tenant's pending work, for <c>maxPendingWork</c>.</summary>
    public long? Pending { get; } = pending;
}

/// <summary>
/// Admission of a tenant's new work (queue messages, run starts) against two limits. Its pending work (queue messages not
/// yet turned into runs, plus runs not finished) against <see cref="TenantLimitValues.MaxPendingWork"/>: the count is
/// read from the database at most once a second per tenant, and what this node admitted since is added to it, so a
/// check usually reads nothing and a flood from one node cannot slip past; other nodes' admissions arrive with the next
/// read. And the rate at which it submits, <see cref="TenantLimitValues.NewWorkPerSecond"/>, per node.
/// </summary>
public sealed class PendingWork(Database database, TenantLimits limits, TimeProvider time)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(1);

    /// <summary>When to retry work refused for the pending limit: runs take about this long to make room.</summary>
    private static readonly TimeSpan RetryPending = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Count> _counts = new(StringComparer.Ordinal);

    /// <summary>
    /// How long new work that comes a little too fast is held for its turn at the tenant's rate before it is refused. Holding
    /// spaces out posts that arrive together (one post of 1,000 every 200 ms at 5,000 a second, rather than five at once
    /// every second, which took the node's cores and writer from other tenants in waves; decision 027).
    /// </summary>
    public static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(1);

    /// <summary>
    /// What an idle tenant may submit with no hold: this much of its rate, or more when its largest post
    /// (<see cref="TenantLimitValues.NewWorkBurst"/>) would otherwise wait longer than <see cref="MaxHold"/>. A full bucket
    /// of a whole second let a flood's first five posts in at once (decision 027).
    /// </summary>
    private static readonly TimeSpan ImmediateBurst = TimeSpan.FromMilliseconds(200);

    private static double BucketSize(TenantLimitValues values) =>
        Math.Max(values.NewWorkBurst - values.NewWorkPerSecond * MaxHold.TotalSeconds, values.NewWorkPerSecond * ImmediateBurst.TotalSeconds);

    /// <summary>
    /// Admits <paramref name="adding"/> pieces of new work all together, or none of them. Work within
    /// <see cref="MaxHold"/> of the tenant's rate is held until its turn, then admitted.
    /// </summary>
    /// <exception cref="NewWorkRefusedException">They would take the tenant past its pending work, or come too fast.</exception>
    public async ValueTask AdmitAsync(string tenantId, int adding, CancellationToken cancellationToken)
    {
        var values = limits.For(tenantId);
        if (adding > values.NewWorkBurst)
        {
            throw new NewWorkRefusedException(
                $"This request submits {adding:N0} pieces of new work (queue messages or runs), but this tenant may submit at most {values.NewWorkBurst:N0} at once. " +
                $"Split it into posts of at most {values.NewWorkBurst:N0} messages, or ask the platform operator to raise the tenant's newWorkBurst (PUT /api/platform/v1/tenants/{{id}}/limits).",
                "newWorkBurst", values.NewWorkBurst, retryAfter: null);
        }
        var ticks = time.GetTimestamp();
        var count = _counts.GetOrAdd(tenantId, static (_, ticks) => new Count(ticks), ticks);
        TimeSpan hold;
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
            if (pending + adding > values.MaxPendingWork)
            {
                throw new NewWorkRefusedException(
                    $"This tenant has {pending:N0} pieces of pending work (queue messages not yet started and runs not finished) and may have at most {values.MaxPendingWork:N0}; " +
                    $"{adding:N0} more would pass that limit, so none were accepted. Retry once runs have finished (GET /api/v1/runs?status=queued shows the backlog), " +
                    "or ask the platform operator to raise the tenant's maxPendingWork (PUT /api/platform/v1/tenants/{id}/limits).",
                    "maxPendingWork", values.MaxPendingWork, RetryPending, pending);
            }
            if (!count.Rate.TryReserve(adding, ticks, time.TimestampFrequency, values.NewWorkPerSecond, BucketSize(values), MaxHold, out hold, out var retryAfter))
            {
                throw new NewWorkRefusedException(
                    $"This tenant may submit {values.NewWorkPerSecond:N0} pieces of new work (queue messages or runs) per second, in bursts of up to {values.NewWorkBurst:N0}; " +
                    $"these {adding:N0} were not accepted. Retry after the Retry-After header's seconds, send at a steadier pace, " +
                    "or ask the platform operator to raise the tenant's newWorkPerSecond (PUT /api/platform/v1/tenants/{id}/limits).",
                    "newWorkPerSecond", values.NewWorkPerSecond, retryAfter);
            }
            count.AdmittedSince += adding;
        }
        if (hold <= TimeSpan.Zero)
        {
            return;
        }
        try
        {
            await Task.Delay(hold, time, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            count.Rate.Return(adding, BucketSize(values));
            lock (count)
            {
                count.AdmittedSince -= adding;
            }
            throw;
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

    private sealed class Count(long ticks)
    {
        /// <summary>Starts full: a tenant that was idle may submit a whole burst at once.</summary>
        public TokenBucket Rate { get; } = new(double.MaxValue, ticks);

        public long Counted;
        public long AdmittedSince;
        public DateTimeOffset ReadAt = DateTimeOffset.MinValue;
    }
}
