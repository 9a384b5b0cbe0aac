using System.Collections.Concurrent;
using System.Text.Json;
using Dapper;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Ai;

/// <summary>A tenant's AI spending and logging choices. Budgets are in USD per calendar month (UTC).</summary>
public sealed record AiGatewaySettings(
    decimal? MonthlyBudgetUsd = null,
    decimal? MonthlyBudgetPerKeyUsd = null,
    bool CacheEnabled = false,
    int CacheTtlSeconds = 3600,
    bool LogBodies = false)
{
    public static AiGatewaySettings Default { get; } = new();
}

/// <summary>Stores <see cref="AiGatewaySettings"/>; read on every model call, so kept in memory for a few seconds.</summary>
public sealed class AiGatewaySettingsStore(Database database, TimeProvider time)
{
    private static readonly TimeSpan Lifetime = TimeSpan.FromSeconds(10);
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly ConcurrentDictionary<string, (long LoadedAt, AiGatewaySettings Settings)> _cache = new(StringComparer.Ordinal);

    public AiGatewaySettings Get(string tenantId)
    {
        var now = time.GetTimestamp();
        if (_cache.TryGetValue(tenantId, out var entry) && time.GetElapsedTime(entry.LoadedAt, now) <= Lifetime)
        {
            return entry.Settings;
        }
        const string sql = "SELECT settings FROM ai_gateway_settings WHERE tenant_id = @tenantId";
        using var connection = database.OpenConnection();
        var text = connection.QuerySingleOrDefault<string>(sql, new { tenantId });
        var settings = text is null ? AiGatewaySettings.Default : JsonSerializer.Deserialize<AiGatewaySettings>(text, Json)!;
        _cache[tenantId] = (now, settings);
        return settings;
    }

    public async Task SaveAsync(string tenantId, AiGatewaySettings settings, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO ai_gateway_settings (tenant_id, settings, updated_at) VALUES (@tenantId, @settings, @now)
                ON CONFLICT (tenant_id) DO UPDATE SET settings = excluded.settings, updated_at = excluded.updated_at
                """;
            connection.Execute(sql, new { tenantId, settings = JsonSerializer.Serialize(settings, Json), now }, transaction);
        }, cancellationToken);
        _cache.TryRemove(tenantId, out _);
    }
}
