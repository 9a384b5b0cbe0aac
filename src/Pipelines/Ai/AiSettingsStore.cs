using System.Text.Json;
using Dapper;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Ai;

public static class ProviderTypes
{
    public const string OpenAi = "openai";
    public const string AzureOpenAi = "azure-openai";
    public const string OpenAiCompatible = "openai-compatible";
    public static readonly string[] All = [OpenAi, AzureOpenAi, OpenAiCompatible];
}

/// <summary>A tenant's model provider as stored; the API key only in protected form.</summary>
public sealed record ProviderRow(string Name, string Type, string? BaseUrl, string? Deployment, string? ProtectedApiKey, long UpdatedAt);

/// <summary>One provider and upstream model of an alias; prices (USD per million tokens) make budgets count it.</summary>
public sealed record ModelTarget(string Provider, string Model, decimal? InputPricePerMillion = null, decimal? OutputPricePerMillion = null);

/// <summary>A target ready to call: its provider row and the API key in clear (held in memory only).</summary>
public sealed record ResolvedTarget(ProviderRow Provider, ModelTarget Target, string? ApiKey);

/// <summary>A model alias and its ordered fallback list of provider targets.</summary>
public sealed record ModelRoute(string Alias, IReadOnlyList<ModelTarget> Targets, long UpdatedAt);

/// <summary>Each tenant's model providers and model aliases. Provider keys are encrypted before they are stored.</summary>
public sealed class AiSettingsStore(Database database, ISecretProtector secrets, TimeProvider time)
{
    /// <summary>
    /// What every model call needs, per tenant: its aliases resolved to providers with keys decrypted.
    /// Writes on this node drop the tenant's entry; other nodes see a change within the lifetime.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, (long LoadedAt, IReadOnlyDictionary<string, IReadOnlyList<ResolvedTarget>> Routes)> _resolved = new(StringComparer.Ordinal);

    private static readonly TimeSpan ResolvedLifetime = TimeSpan.FromSeconds(10);

    /// <returns>The alias's targets in fallback order (a target whose provider is gone is left out), or null when the tenant has no such alias.</returns>
    public IReadOnlyList<ResolvedTarget>? Resolve(string tenantId, string alias)
    {
        var now = time.GetTimestamp();
        if (!_resolved.TryGetValue(tenantId, out var entry) || time.GetElapsedTime(entry.LoadedAt, now) > ResolvedLifetime)
        {
            var providers = ListProviders(tenantId).ToDictionary(p => p.Name, p => (Row: p, Key: RevealApiKey(tenantId, p)), StringComparer.Ordinal);
            var routes = ListModels(tenantId).ToDictionary(
                m => m.Alias,
                m => (IReadOnlyList<ResolvedTarget>)m.Targets
                    .Where(t => providers.ContainsKey(t.Provider))
                    .Select(t => new ResolvedTarget(providers[t.Provider].Row, t, providers[t.Provider].Key))
                    .ToList(),
                StringComparer.Ordinal);
            entry = (now, routes);
            _resolved[tenantId] = entry;
        }
        return entry.Routes.GetValueOrDefault(alias);
    }

    private void Changed(string tenantId) => _resolved.TryRemove(tenantId, out _);

    /// <param name="apiKey">A new key, or null to keep the stored one.</param>
    public async Task<ProviderRow> SaveProviderAsync(string tenantId, string name, string type, string? baseUrl, string? deployment, string? apiKey, CancellationToken cancellationToken)
    {
        var protectedKey = apiKey is null ? null : secrets.Protect(tenantId, apiKey);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var saved = await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO ai_providers (tenant_id, name, type, base_url, deployment, protected_api_key, updated_at)
                VALUES (@tenantId, @name, @type, @baseUrl, @deployment, @protectedKey, @now)
                ON CONFLICT (tenant_id, name) DO UPDATE SET
                  type = excluded.type, base_url = excluded.base_url, deployment = excluded.deployment,
                  protected_api_key = COALESCE(excluded.protected_api_key, ai_providers.protected_api_key), updated_at = excluded.updated_at
                RETURNING name, type, base_url, deployment, protected_api_key, updated_at
                """;
            return connection.QuerySingle<ProviderRow>(sql, new { tenantId, name, type, baseUrl, deployment, protectedKey, now }, transaction);
        }, cancellationToken);
        Changed(tenantId);
        return saved;
    }

    public IReadOnlyList<ProviderRow> ListProviders(string tenantId)
    {
        const string sql = """
            SELECT name, type, base_url, deployment, protected_api_key, updated_at FROM ai_providers
            WHERE tenant_id = @tenantId ORDER BY name
            """;
        using var connection = database.OpenConnection();
        return connection.Query<ProviderRow>(sql, new { tenantId }).AsList();
    }

    public ProviderRow? FindProvider(string tenantId, string name)
    {
        const string sql = """
            SELECT name, type, base_url, deployment, protected_api_key, updated_at FROM ai_providers
            WHERE tenant_id = @tenantId AND name = @name
            """;
        using var connection = database.OpenConnection();
        return connection.QuerySingleOrDefault<ProviderRow>(sql, new { tenantId, name });
    }

    /// <summary>The provider's API key in clear, for the outbound call only; never for an API answer or a log.</summary>
    public string? RevealApiKey(string tenantId, ProviderRow provider) =>
        provider.ProtectedApiKey is null ? null : secrets.Unprotect(tenantId, provider.ProtectedApiKey);

    public async Task<bool> DeleteProviderAsync(string tenantId, string name, CancellationToken cancellationToken)
    {
        var deleted = await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "DELETE FROM ai_providers WHERE tenant_id = @tenantId AND name = @name";
            return connection.Execute(sql, new { tenantId, name }, transaction) == 1;
        }, cancellationToken);
        Changed(tenantId);
        return deleted;
    }

    public async Task<ModelRoute> SaveModelAsync(string tenantId, string alias, IReadOnlyList<ModelTarget> targets, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = """
                INSERT INTO ai_models (tenant_id, alias, targets, updated_at) VALUES (@tenantId, @alias, @targets, @now)
                ON CONFLICT (tenant_id, alias) DO UPDATE SET targets = excluded.targets, updated_at = excluded.updated_at
                """;
            connection.Execute(sql, new { tenantId, alias, targets = JsonSerializer.Serialize(targets, Json), now }, transaction);
        }, cancellationToken);
        Changed(tenantId);
        return new ModelRoute(alias, targets, now);
    }

    public IReadOnlyList<ModelRoute> ListModels(string tenantId)
    {
        const string sql = """
            SELECT alias, targets, updated_at FROM ai_models WHERE tenant_id = @tenantId ORDER BY alias
            """;
        using var connection = database.OpenConnection();
        return connection.Query<(string Alias, string Targets, long UpdatedAt)>(sql, new { tenantId })
            .Select(row => new ModelRoute(row.Alias, JsonSerializer.Deserialize<List<ModelTarget>>(row.Targets, Json)!, row.UpdatedAt))
            .ToList();
    }

    public async Task<bool> DeleteModelAsync(string tenantId, string alias, CancellationToken cancellationToken)
    {
        var deleted = await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "DELETE FROM ai_models WHERE tenant_id = @tenantId AND alias = @alias";
            return connection.Execute(sql, new { tenantId, alias }, transaction) == 1;
        }, cancellationToken);
        Changed(tenantId);
        return deleted;
    }

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
