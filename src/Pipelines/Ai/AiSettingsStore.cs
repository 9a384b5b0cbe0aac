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

public sealed record ModelTarget(string Provider, string Model);

/// <summary>A model alias and its ordered fallback list of provider targets.</summary>
public sealed record ModelRoute(string Alias, IReadOnlyList<ModelTarget> Targets, long UpdatedAt);

/// <summary>Each tenant's model providers and model aliases. Provider keys are encrypted before they are stored.</summary>
public sealed class AiSettingsStore(Database database, ISecretProtector secrets, TimeProvider time)
{
    /// <param name="apiKey">A new key, or null to keep the stored one.</param>
    public async Task<ProviderRow> SaveProviderAsync(string tenantId, string name, string type, string? baseUrl, string? deployment, string? apiKey, CancellationToken cancellationToken)
    {
        var protectedKey = apiKey is null ? null : secrets.Protect(tenantId, apiKey);
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        return await database.WriteAsync((connection, transaction) =>
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

    /// <summary>On every gateway request, so one row by key rather than the whole list.</summary>
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

    public async Task<bool> DeleteProviderAsync(string tenantId, string name, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "DELETE FROM ai_providers WHERE tenant_id = @tenantId AND name = @name";
            return connection.Execute(sql, new { tenantId, name }, transaction) == 1;
        }, cancellationToken);

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

    public async Task<bool> DeleteModelAsync(string tenantId, string alias, CancellationToken cancellationToken) =>
        await database.WriteAsync((connection, transaction) =>
        {
            const string sql = "DELETE FROM ai_models WHERE tenant_id = @tenantId AND alias = @alias";
            return connection.Execute(sql, new { tenantId, alias }, transaction) == 1;
        }, cancellationToken);

    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
}
