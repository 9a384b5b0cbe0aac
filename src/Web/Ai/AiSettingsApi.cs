using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Network;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.Ai;

public sealed record ProviderDto(string Name, string Type, string? BaseUrl, string? Deployment, bool HasApiKey, DateTimeOffset UpdatedAt);

public sealed record ModelDto(string Alias, IReadOnlyList<ModelTarget> Targets, DateTimeOffset UpdatedAt);

public sealed record ProviderRequest(string? Type, string? BaseUrl, string? ApiKey, string? Deployment);

public sealed record ModelRequest(IReadOnlyList<ModelTarget?>? Targets);

public sealed record AiRequestDto(
    string Id, string Source, string? KeyId, string? RunId, string Alias, string? Provider, string? Model, string Operation, int Status,
    bool Stream, bool Cached, long InputTokens, long OutputTokens, double CostUsd, double DurationMs, string? Error,
    string? RequestBody, string? ResponseBody, DateTimeOffset CreatedAt);

public sealed record AiRequestPage(IReadOnlyList<AiRequestDto> Items, string? Next);

/// <summary>A tenant's model providers (keys write-only, encrypted at rest) and model aliases with fallback lists.</summary>
public static partial class AiSettingsApi
{
    public static RouteGroupBuilder MapAiSettingsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/ai").WithTags("AI settings");
        group.MapGet("/providers", (CurrentTenant tenant, AiSettingsStore store) => TypedResults.Ok(store.ListProviders(tenant.Id).Select(ToDto).ToList()));
        group.MapPut("/providers/{name}", PutProviderAsync);
        group.MapDelete("/providers/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, HttpContext context, CurrentTenant tenant, AiSettingsStore store, AuditLog audit, CancellationToken ct) =>
            await store.DeleteProviderAsync(tenant.Id, name, ct) && await Audited(audit, tenant, context, "ai.provider.deleted", "ai_provider", name, null, ct)
                ? TypedResults.NoContent() : Problems.NotFound("provider", name));
        group.MapGet("/models", (CurrentTenant tenant, AiSettingsStore store) => TypedResults.Ok(store.ListModels(tenant.Id).Select(ToDto).ToList()));
        group.MapPut("/models/{alias}", PutModelAsync);
        group.MapGet("/settings", (CurrentTenant tenant, AiGatewaySettingsStore store) => TypedResults.Ok(store.Get(tenant.Id)));
        group.MapPut("/settings", PutSettingsAsync);
        group.MapGet("/requests", ListRequests);
        group.MapDelete("/models/{alias}", async Task<Results<NoContent, ProblemHttpResult>> (string alias, HttpContext context, CurrentTenant tenant, AiSettingsStore store, AuditLog audit, CancellationToken ct) =>
            await store.DeleteModelAsync(tenant.Id, alias, ct) && await Audited(audit, tenant, context, "ai.model.deleted", "ai_model", alias, null, ct)
                ? TypedResults.NoContent() : Problems.NotFound("model", alias));
        return group;
    }

    /// <summary>Appends to the audit log; true, so it chains after a successful change.</summary>
    private static async Task<bool> Audited(AuditLog audit, CurrentTenant tenant, HttpContext context, string action, string targetType, string targetId, object? details, CancellationToken cancellationToken)
    {
        await audit.AppendAsync(tenant.Id, context.Actor(), action, targetType, targetId, details, cancellationToken);
        return true;
    }

    private static async Task<Results<Ok<ProviderDto>, ProblemHttpResult>> PutProviderAsync(
        string name, ProviderRequest request, HttpContext context, CurrentTenant tenant, AiSettingsStore store, AuditLog audit, GuardedHttpClientFactory network, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (!Name().IsMatch(name))
        {
            errors.Add(new("name", "must be 1-64 characters: letters, digits, '-', '_' or '.'"));
        }
        var existing = store.FindProvider(tenant.Id, name);
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
        if (request.Type is ProviderTypes.OpenAi or ProviderTypes.AzureOpenAi && string.IsNullOrEmpty(request.ApiKey) && existing?.ProtectedApiKey is null)
        {
            errors.Add(new("apiKey", $"is required for {request.Type}"));
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid("Invalid provider", errors);
        }
        var saved = await store.SaveProviderAsync(tenant.Id, name, request.Type!, request.BaseUrl, request.Deployment, string.IsNullOrEmpty(request.ApiKey) ? null : request.ApiKey, cancellationToken);
        await Audited(audit, tenant, context, "ai.provider.saved", "ai_provider", name, new { request.Type, request.BaseUrl, request.Deployment, apiKeyChanged = !string.IsNullOrEmpty(request.ApiKey) }, cancellationToken);
        return TypedResults.Ok(ToDto(saved));
    }

    private static async Task<Results<Ok<ModelDto>, ProblemHttpResult>> PutModelAsync(
        string alias, ModelRequest request, HttpContext context, CurrentTenant tenant, AiSettingsStore store, AuditLog audit, CancellationToken cancellationToken)
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
        var providers = store.ListProviders(tenant.Id).Select(p => p.Name).ToHashSet(StringComparer.Ordinal);
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
            return Problems.Invalid("Invalid model", errors);
        }
        var saved = await store.SaveModelAsync(tenant.Id, alias, targets.Select(t => t!).ToList(), cancellationToken);
        await Audited(audit, tenant, context, "ai.model.saved", "ai_model", alias, new { saved.Targets }, cancellationToken);
        return TypedResults.Ok(ToDto(saved));
    }

    private static async Task<Results<Ok<AiGatewaySettings>, ProblemHttpResult>> PutSettingsAsync(
        AiGatewaySettings request, HttpContext context, CurrentTenant tenant, AiGatewaySettingsStore store, AuditLog audit, CancellationToken cancellationToken)
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
            return Problems.Invalid("Invalid AI settings", errors);
        }
        await store.SaveAsync(tenant.Id, request, cancellationToken);
        await Audited(audit, tenant, context, "ai.settings.saved", "ai_settings", tenant.Id, request, cancellationToken);
        return TypedResults.Ok(request);
    }

    /// <summary>The request log, newest first; <c>cursor</c> is the <c>next</c> of the previous page.</summary>
    private static async Task<Results<Ok<AiRequestPage>, ProblemHttpResult>> ListRequests(
        CurrentTenant tenant, AiRequestLog log, Saas.Web.Gateway.GatewayMeter gatewayCalls, int? limit, string? cursor, CancellationToken cancellationToken)
    {
        await gatewayCalls.WrittenAsync(cancellationToken);
        (long, string)? before = null;
        if (cursor is not null)
        {
            var parts = cursor.Split('.', 2);
            if (parts.Length != 2 || !long.TryParse(parts[0], out var createdAt))
            {
                return Problems.BadRequest("Invalid cursor", "cursor must be the 'next' value of the previous page");
            }
            before = (createdAt, parts[1]);
        }
        var size = Math.Clamp(limit ?? 50, 1, 500);
        var entries = log.List(tenant.Id, size, before);
        var items = entries.Select(e => new AiRequestDto(e.Id, e.Source, e.KeyId, e.RunId, e.Alias, e.Provider, e.Model, e.Operation, e.Status, e.Stream, e.Cached,
            e.InputTokens, e.OutputTokens, e.CostUsd, e.DurationMs, e.Error, e.RequestBody, e.ResponseBody, DateTimeOffset.FromUnixTimeMilliseconds(e.CreatedAt))).ToList();
        return TypedResults.Ok(new AiRequestPage(items, entries.Count == size ? $"{entries[^1].CreatedAt}.{entries[^1].Id}" : null));
    }

    private static ProviderDto ToDto(ProviderRow row) =>
        new(row.Name, row.Type, row.BaseUrl, row.Deployment, row.ProtectedApiKey is not null, DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt));

    private static ModelDto ToDto(ModelRoute route) => new(route.Alias, route.Targets, DateTimeOffset.FromUnixTimeMilliseconds(route.UpdatedAt));

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")]
    private static partial Regex Name();
}
