using System.Text.RegularExpressions;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Network;

namespace Saas.Web.Ai;

/// <summary>A change that was either saved (<see cref="Saved"/>) or refused with every problem at its field.</summary>
public sealed record Checked<T>(T? Saved, IReadOnlyList<DefinitionError> Errors) where T : class
{
    public static Checked<T> Invalid(IReadOnlyList<DefinitionError> errors) => new(null, errors);
}

/// <summary>
/// Validates, saves and audits a tenant's AI settings: the one place both the tenant API and the portal's AI
/// page go through, so a change made in the browser is checked and recorded exactly like one made with a key.
/// </summary>
public sealed partial class AiSettingsChanges(AiSettingsStore store, AiGatewaySettingsStore settings, AuditLog audit, GuardedHttpClientFactory network)
{
    public async Task<Checked<ProviderRow>> SaveProviderAsync(string tenantId, AuditActor actor, string name, ProviderRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (!Name().IsMatch(name))
        {
            errors.Add(new("name", "must be 1-64 characters: letters, digits, '-', '_' or '.'"));
        }
        var existing = store.FindProvider(tenantId, name);
        if (request.Type is null || !ProviderTypes.All.Contains(request.Type))
        {
            errors.Add(new("type", $"must be one of {string.Join(", ", ProviderTypes.All)}"));
        }
        if (request.BaseUrl is not null && !(Uri.TryCreate(request.BaseUrl, UriKind.Absolute, out var url) && url.Scheme is "http" or "https"))
        {
            errors.Add(new("baseUrl", $"'{request.BaseUrl}' is not an absolute http(s) URL"));
        }
        else if (request.BaseUrl is not null)
        {
            try
            {
                network.Urls.EnsureAllowed(new Uri(request.BaseUrl));
            }
            catch (OutboundCallRefusedException refused)
            {
                errors.Add(new("baseUrl", refused.Message));
            }
        }
        if (request.Type is ProviderTypes.AzureOpenAi or ProviderTypes.OpenAiCompatible && request.BaseUrl is null)
        {
            errors.Add(new("baseUrl", $"is required for {request.Type} (e.g. https://my-resource.openai.azure.com or http://localhost:11434/v1)"));
        }
        if (request.Type is ProviderTypes.AzureOpenAi && string.IsNullOrWhiteSpace(request.Deployment))
        {
            errors.Add(new("deployment", "is required for azure-openai: the deployment name of the model"));
        }
        if (request.ApiKey is { } key && key.Any(char.IsControl))
        {
            errors.Add(new("apiKey", "contains a line break or another control character; paste the key alone, without surrounding whitespace"));
        }
        if (request.Type is ProviderTypes.OpenAi or ProviderTypes.AzureOpenAi && string.IsNullOrEmpty(request.ApiKey) && existing?.ProtectedApiKey is null)
        {
            errors.Add(new("apiKey", $"is required for {request.Type}"));
        }
        if (errors.Count > 0)
        {
            return Checked<ProviderRow>.Invalid(errors);
        }
        var saved = await store.SaveProviderAsync(tenantId, name, request.Type!, request.BaseUrl, request.Deployment, string.IsNullOrEmpty(request.ApiKey) ? null : request.ApiKey, cancellationToken);
        await audit.AppendAsync(tenantId, actor, "ai.provider.saved", "ai_provider", name, new { request.Type, request.BaseUrl, request.Deployment, apiKeyChanged = !string.IsNullOrEmpty(request.ApiKey) }, cancellationToken);
        return new(saved, []);
    }

    /// <returns>false when the tenant has no such provider.</returns>
    public async Task<bool> DeleteProviderAsync(string tenantId, AuditActor actor, string name, CancellationToken cancellationToken)
    {
        if (!await store.DeleteProviderAsync(tenantId, name, cancellationToken))
        {
            return false;
        }
        await audit.AppendAsync(tenantId, actor, "ai.provider.deleted", "ai_provider", name, null, cancellationToken);
        return true;
    }

    public async Task<Checked<ModelRoute>> SaveModelAsync(string tenantId, AuditActor actor, string alias, ModelRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (!Name().IsMatch(alias.Replace('/', '.')))
        {
            errors.Add(new("alias", "must be 1-64 characters: letters, digits, '-', '_', '.' or '/'"));
        }
        var targets = request.Targets ?? [];
        if (targets.Count == 0)
        {
            errors.Add(new("targets", "must list at least one {\"provider\":\"<name>\",\"model\":\"<upstream model>\"}, tried in order"));
        }
        var providers = store.ListProviders(tenantId).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
        for (var i = 0; i < targets.Count; i++)
        {
            if (targets[i] is not { } target || string.IsNullOrWhiteSpace(target.Provider) || string.IsNullOrWhiteSpace(target.Model))
            {
                errors.Add(new($"targets[{i}]", "must have a provider and a model"));
            }
            else if (!providers.Contains(target.Provider))
            {
                errors.Add(new($"targets[{i}].provider", $"no provider '{target.Provider}'; create it with PUT /api/v1/ai/providers/{target.Provider}"));
            }
            else if (target.InputPricePerMillion < 0 || target.OutputPricePerMillion < 0)
            {
                errors.Add(new($"targets[{i}]", "prices (USD per million tokens) must not be negative"));
            }
        }
        if (errors.Count > 0)
        {
            return Checked<ModelRoute>.Invalid(errors);
        }
        var saved = await store.SaveModelAsync(tenantId, alias, targets.Select(t => t!).ToList(), cancellationToken);
        await audit.AppendAsync(tenantId, actor, "ai.model.saved", "ai_model", alias, new { saved.Targets }, cancellationToken);
        return new(saved, []);
    }

    /// <returns>false when the tenant has no such alias.</returns>
    public async Task<bool> DeleteModelAsync(string tenantId, AuditActor actor, string alias, CancellationToken cancellationToken)
    {
        if (!await store.DeleteModelAsync(tenantId, alias, cancellationToken))
        {
            return false;
        }
        await audit.AppendAsync(tenantId, actor, "ai.model.deleted", "ai_model", alias, null, cancellationToken);
        return true;
    }

    public async Task<Checked<AiGatewaySettings>> SaveSettingsAsync(string tenantId, AuditActor actor, AiGatewaySettings request, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (request.MonthlyBudgetUsd < 0)
        {
            errors.Add(new("monthlyBudgetUsd", "must be 0 or more (USD per calendar month; leave it out for no budget)"));
        }
        if (request.MonthlyBudgetPerKeyUsd < 0)
        {
            errors.Add(new("monthlyBudgetPerKeyUsd", "must be 0 or more (USD per API key per calendar month; leave it out for no budget)"));
        }
        if (request.CacheTtlSeconds is < 1 or > 30 * 24 * 3600)
        {
            errors.Add(new("cacheTtlSeconds", "must be between 1 and 2592000 (30 days)"));
        }
        if (errors.Count > 0)
        {
            return Checked<AiGatewaySettings>.Invalid(errors);
        }
        await settings.SaveAsync(tenantId, request, cancellationToken);
        await audit.AppendAsync(tenantId, actor, "ai.settings.saved", "ai_settings", tenantId, request, cancellationToken);
        return new(request, []);
    }

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex Name();
}
