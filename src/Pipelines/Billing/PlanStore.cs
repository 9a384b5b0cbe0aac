using System.Text.Json;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Billing;

public sealed record Plan(string Id, string Name, string Currency, long CreatedAt, IReadOnlyList<PlanVersion> Versions)
{
    /// <summary>The version that prices the month starting at <paramref name="monthStart"/>: the last one in effect then, or the first one for a plan newer than the month.</summary>
    public PlanVersion VersionFor(DateTimeOffset monthStart) =>
        Versions.LastOrDefault(v => v.EffectiveFrom <= monthStart.ToUnixTimeMilliseconds()) ?? Versions[0];
}

public sealed record PlanVersion(long Version, long EffectiveFrom, PlanPrices Prices, long CreatedAt);

/// <summary>Plans and their versioned prices (platform data: plans belong to no tenant).</summary>
public sealed class PlanStore(Database database, TimeProvider time)
{
    /// <summary>Plans are read on every run's admission; they change rarely, and this node forgets them on its own writes.</summary>
    private static readonly TimeSpan CacheTime = TimeSpan.FromSeconds(5);

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (Plan? Plan, DateTimeOffset Until)> _cache = new(StringComparer.Ordinal);

    public async Task<Plan> CreateAsync(string name, string currency, PlanPrices prices, CancellationToken cancellationToken)
    {
        var id = Ids.New("plan");
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO plans (id, name, currency, created_at) VALUES (@id, @name, @currency, @now);
                INSERT INTO plan_versions (plan_id, version, effective_from, prices, created_at) VALUES (@id, 1, 0, @prices, @now);
                """;
            connection.Execute(sql, new { id, name, currency, now, prices = prices.ToJson().ToJsonString() }, transaction);
        }, cancellationToken);
        return Find(id)!;
    }

    /// <summary>Adds a version of the prices that prices months from <paramref name="effectiveFrom"/> (a month start) on; subscribed tenants' Stripe subscriptions follow then, through the outbox.</summary>
    public async Task<Plan?> AddVersionAsync(string planId, PlanPrices prices, DateTimeOffset effectiveFrom, CancellationToken cancellationToken)
    {
        var added = await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO plan_versions (plan_id, version, effective_from, prices, created_at)
                SELECT id, (SELECT MAX(version) + 1 FROM plan_versions WHERE plan_id = @planId), @effectiveFrom, @prices, @now
                FROM plans WHERE id = @planId
                """;
            var added = connection.Execute(sql, new
            {
                planId, effectiveFrom = effectiveFrom.ToUnixTimeMilliseconds(), prices = prices.ToJson().ToJsonString(), now = time.GetUtcNow().ToUnixTimeMilliseconds(),
            }, transaction);
            if (added > 0)
            {
                BillingOutbox.EnqueuePlanResync(connection, transaction, planId, effectiveFrom, time.GetUtcNow());
            }
            return added;
        }, cancellationToken);
        _cache.TryRemove(planId, out _);
        return added == 0 ? null : Find(planId);
    }

    public async Task<bool> RenameAsync(string planId, string name, CancellationToken cancellationToken)
    {
        var renamed = await database.WriteAsync((connection, transaction) =>
            connection.Execute("UPDATE plans SET name = @name WHERE id = @planId", new { planId, name }, transaction) > 0, cancellationToken);
        _cache.TryRemove(planId, out _);
        return renamed;
    }

    /// <returns>False when the plan is assigned to a tenant (it cannot be deleted), null when it does not exist.</returns>
    public async Task<bool?> DeleteAsync(string planId, CancellationToken cancellationToken)
    {
        var deleted = await database.WriteAsync<bool?>((connection, transaction) =>
        {
            const string inUse = "SELECT COUNT(*) FROM tenant_billing WHERE plan_id = @planId";
            if (connection.ExecuteScalar<long>(inUse, new { planId }, transaction) > 0)
            {
                return false;
            }
            connection.Execute("DELETE FROM plan_versions WHERE plan_id = @planId", new { planId }, transaction);
            return connection.Execute("DELETE FROM plans WHERE id = @planId", new { planId }, transaction) > 0 ? true : null;
        }, cancellationToken);
        _cache.TryRemove(planId, out _);
        return deleted;
    }

    /// <summary>The plan, up to <see cref="CacheTime"/> old (changes made on this node show at once).</summary>
    public Plan? Find(string planId) =>
        _cache.TryGetValue(planId, out var cached) && cached.Until > time.GetUtcNow() ? cached.Plan : FindCurrent(planId);

    /// <summary>
    /// The plan as committed now, read past the cache: for acting on an outbox command, which is written in the transaction
    /// of the new version it follows, so a cached copy may predate that version.
    /// </summary>
    public Plan? FindCurrent(string planId)
    {
        var plan = Load(planId, null).FirstOrDefault();
        _cache[planId] = (plan, time.GetUtcNow() + CacheTime);
        return plan;
    }

    public Plan? FindByName(string name) => Load(null, name).FirstOrDefault();

    public IReadOnlyList<Plan> List() => Load(null, null);

    private IReadOnlyList<Plan> Load(string? planId, string? name)
    {
        const string sql = """
            SELECT p.id, p.name, p.currency, p.created_at, v.version, v.effective_from, v.prices, v.created_at AS version_created_at
            FROM plans p JOIN plan_versions v ON v.plan_id = p.id
            WHERE (@planId IS NULL OR p.id = @planId) AND (@name IS NULL OR p.name = @name)
            ORDER BY p.name, v.effective_from, v.version
            """;
        using var connection = database.OpenConnection();
        return connection.Query<PlanVersionRow>(sql, new { planId, name })
            .GroupBy(r => r.Id)
            .Select(g =>
            {
                var first = g.First();
                return new Plan(first.Id, first.Name, first.Currency, first.CreatedAt,
                    g.Select(r => new PlanVersion(r.Version, r.EffectiveFrom, ReadPrices(r.Prices), r.VersionCreatedAt)).ToList());
            })
            .ToList();
    }

    private static PlanPrices ReadPrices(string json)
    {
        using var document = JsonDocument.Parse(json);
        return PlanPrices.Parse(document.RootElement).Prices ?? throw new InvalidDataException($"stored plan prices do not parse: {json}");
    }

    private sealed record PlanVersionRow(string Id, string Name, string Currency, long CreatedAt, long Version, long EffectiveFrom, string Prices, long VersionCreatedAt);
}
