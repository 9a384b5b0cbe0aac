using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using Dapper;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Limits;

/// <summary>Configuration section <c>Flowgate:Limits</c>: the defaults of every tenant's limits (decision 024).</summary>
public sealed class LimitsOptions
{
    public const string Section = "Flowgate:Limits";

    /// <summary>Tenant API requests per second, refilled continuously.</summary>
    [Range(1, 1_000_000)]
    public int RequestsPerSecond { get; set; } = 200;

    /// <summary>Requests a tenant may send at once after being idle (the token bucket's size).</summary>
    [Range(1, 10_000_000)]
    public int RequestBurst { get; set; } = 400;

    /// <summary>Work items of one tenant executing at once on a node; unset: half of <c>Flowgate:Runtime:Workers</c>.</summary>
    [Range(1, 256)]
    public int? MaxConcurrentSteps { get; set; }

    /// <summary>
    /// While several tenants have work on a node, each executes at most this many work items at once (and never more
    /// than its own cap); unset: half the node's processors (at least one). A tenant with a backlog then leaves cores
    /// free for the others' steps instead of queueing them behind its own (decision 027).
    /// </summary>
    [Range(1, 256)]
    public int? ContendedConcurrentSteps { get; set; }

    /// <summary>
    /// While several tenants have work on a node, the work of a tenant with more waiting than it may run runs on
    /// low-priority threads (<see cref="LowPriority"/>): the cores go to the others' work first (decision 027).
    /// </summary>
    public bool BacklogAtLowPriority { get; set; } = true;

    /// <summary>Queued messages plus unfinished runs a tenant may have; more posts and run starts answer 429.</summary>
    [Range(1, long.MaxValue)]
    public long MaxPendingWork { get; set; } = 100_000;

    /// <summary>
    /// New work (queue messages posted, runs started) a tenant may submit per second, refilled continuously: posting is
    /// far cheaper than running, so without it one tenant's burst of posts takes the node's cores from everyone's runs
    /// for as long as it lasts. Work a little too fast is held for its turn rather than refused (decision 027).
    /// </summary>
    [Range(1, 10_000_000)]
    public int NewWorkPerSecond { get; set; } = 5_000;

    /// <summary>
    /// The most messages one post may carry (more answers 413). An idle tenant's bucket holds this less a second of the rate,
    /// but at least 0.2 s of it: a post of the whole burst may be held up to a second for its turn (<see cref="PendingWork.MaxHold"/>).
    /// </summary>
    [Range(1, 100_000_000)]
    public int NewWorkBurst { get; set; } = 5_000;
}

/// <summary>The limits in force for one tenant.</summary>
public sealed record TenantLimitValues(int RequestsPerSecond, int RequestBurst, int MaxConcurrentSteps, long MaxPendingWork, int NewWorkPerSecond, int NewWorkBurst);

/// <summary>What the platform set for one tenant; null keeps the configured default.</summary>
public sealed record TenantLimitOverrides(int? RequestsPerSecond, int? RequestBurst, int? MaxConcurrentSteps, long? MaxPendingWork, int? NewWorkPerSecond = null, int? NewWorkBurst = null)
{
    public static TenantLimitOverrides None { get; } = new(null, null, null, null);
}

/// <summary>
/// Every tenant's limits: the configured defaults, overridden per tenant by the platform. Read on hot
/// paths (each API request, each dispatched work item), so kept in memory and re-read in the background
/// every few seconds, which is how a change made on another node arrives here.
/// </summary>
public sealed class TenantLimits(Database database, IOptions<LimitsOptions> limits, IOptions<FlowgateOptions> flowgate, TimeProvider time)
{
    private static readonly TimeSpan Refresh = TimeSpan.FromSeconds(5);

    private readonly ConcurrentDictionary<string, Cached> _cache = new(StringComparer.Ordinal);

    public TenantLimitValues Defaults => new(
        limits.Value.RequestsPerSecond, limits.Value.RequestBurst,
        limits.Value.MaxConcurrentSteps ?? Math.Max(1, flowgate.Value.Runtime.Workers / 2), limits.Value.MaxPendingWork,
        limits.Value.NewWorkPerSecond, limits.Value.NewWorkBurst);

    /// <inheritdoc cref="LimitsOptions.ContendedConcurrentSteps"/>
    public int ContendedConcurrentSteps => limits.Value.ContendedConcurrentSteps ?? Math.Max(1, Environment.ProcessorCount / 2);

    /// <inheritdoc cref="LimitsOptions.BacklogAtLowPriority"/>
    public bool BacklogAtLowPriority => limits.Value.BacklogAtLowPriority;

    public TenantLimitValues For(string tenantId)
    {
        var now = time.GetUtcNow();
        if (!_cache.TryGetValue(tenantId, out var cached))
        {
            return Load(tenantId, now).Values;
        }
        if (now - cached.ReadAt > Refresh && Interlocked.Exchange(ref cached.Refreshing, 1) == 0)
        {
            _ = Task.Run(() =>
            {
                try
                {
                    Load(tenantId, time.GetUtcNow());
                }
                catch (Exception)
                {
                    // The database is unavailable for a moment: the limits read last stay in force, and the next call tries again.
                    Volatile.Write(ref cached.Refreshing, 0);
                }
            });
        }
        return cached.Values;
    }

    public TenantLimitOverrides Overrides(string tenantId)
    {
        const string sql = """
            SELECT requests_per_second, request_burst, max_concurrent_steps, max_pending_work, new_work_per_second, new_work_burst
            FROM tenant_limits WHERE tenant_id = @tenantId
            """;
        using var connection = database.OpenConnection();
        var row = connection.QuerySingleOrDefault<(long? Rps, long? Burst, long? Steps, long? Pending, long? NewWork, long? NewWorkBurst)>(sql, new { tenantId });
        return new TenantLimitOverrides((int?)row.Rps, (int?)row.Burst, (int?)row.Steps, row.Pending, (int?)row.NewWork, (int?)row.NewWorkBurst);
    }

    public async Task SetAsync(string tenantId, TenantLimitOverrides overrides, CancellationToken cancellationToken)
    {
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO tenant_limits (tenant_id, requests_per_second, request_burst, max_concurrent_steps, max_pending_work, new_work_per_second, new_work_burst, updated_at)
                VALUES (@tenantId, @RequestsPerSecond, @RequestBurst, @MaxConcurrentSteps, @MaxPendingWork, @NewWorkPerSecond, @NewWorkBurst, @now)
                ON CONFLICT (tenant_id) DO UPDATE SET
                  requests_per_second = excluded.requests_per_second, request_burst = excluded.request_burst,
                  max_concurrent_steps = excluded.max_concurrent_steps, max_pending_work = excluded.max_pending_work,
                  new_work_per_second = excluded.new_work_per_second, new_work_burst = excluded.new_work_burst, updated_at = excluded.updated_at
                """;
            connection.Execute(sql, new
            {
                tenantId, overrides.RequestsPerSecond, overrides.RequestBurst, overrides.MaxConcurrentSteps, overrides.MaxPendingWork,
                overrides.NewWorkPerSecond, overrides.NewWorkBurst,
                now = time.GetUtcNow().ToUnixTimeMilliseconds(),
            }, transaction);
        }, cancellationToken);
        Load(tenantId, time.GetUtcNow());
    }

    private Cached Load(string tenantId, DateTimeOffset now)
    {
        var overrides = Overrides(tenantId);
        var defaults = Defaults;
        var values = new TenantLimitValues(
            overrides.RequestsPerSecond ?? defaults.RequestsPerSecond, overrides.RequestBurst ?? defaults.RequestBurst,
            overrides.MaxConcurrentSteps ?? defaults.MaxConcurrentSteps, overrides.MaxPendingWork ?? defaults.MaxPendingWork,
            overrides.NewWorkPerSecond ?? defaults.NewWorkPerSecond, overrides.NewWorkBurst ?? defaults.NewWorkBurst);
        var cached = new Cached(values, now);
        _cache[tenantId] = cached;
        return cached;
    }

    private sealed class Cached(TenantLimitValues values, DateTimeOffset readAt)
    {
        public TenantLimitValues Values { get; } = values;

        public DateTimeOffset ReadAt { get; } = readAt;

        public int Refreshing;
    }
}

public static class LimitsServiceCollectionExtensions
{
    public static IServiceCollection AddTenantLimits(this IServiceCollection services)
    {
        services.AddOptions<LimitsOptions>().BindConfiguration(LimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TenantLimits>();
        services.AddSingleton<PendingWork>();
        return services;
    }
}
