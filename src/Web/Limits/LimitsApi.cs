using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Limits;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Limits;

/// <summary>The limits in force for a tenant, and what the platform set for it (null: the configured default).</summary>
public sealed record TenantLimitsDto(
    string TenantId, int RequestsPerSecond, int RequestBurst, int MaxConcurrentSteps, long MaxPendingWork, int NewWorkPerSecond, int NewWorkBurst, TenantLimitOverrides Overrides);

public static class LimitsApi
{
    /// <summary><c>GET /api/v1/limits</c>: the calling tenant's limits.</summary>
    public static RouteGroupBuilder MapLimitsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/limits").WithTags("Limits");
        group.MapGet("/", (CurrentTenant tenant, TenantLimits limits) => TypedResults.Ok(Describe(tenant.Id, limits)));
        return group;
    }

    /// <summary><c>GET/PUT /api/platform/v1/tenants/{id}/limits</c> on the platform API's group.</summary>
    public static RouteGroupBuilder MapTenantLimitsPlatformApi(this RouteGroupBuilder platform)
    {
        platform.MapGet("/tenants/{id}/limits", GetTenantLimits);
        platform.MapPut("/tenants/{id}/limits", SetTenantLimitsAsync);
        return platform;
    }

    private static Results<Ok<TenantLimitsDto>, ProblemHttpResult> GetTenantLimits(string id, TenantBillingStore tenants, TenantLimits limits) =>
        tenants.TenantExists(id) ? TypedResults.Ok(Describe(id, limits)) : Problems.NotFound("tenant", id);

    /// <summary>
    /// <c>{"requestsPerSecond": 50, "requestBurst": 100, "maxConcurrentSteps": 4, "maxPendingWork": 10000, "newWorkPerSecond": 1000, "newWorkBurst": 2000}</c>:
    /// replaces the tenant's overrides; a property left out or null keeps the configured default.
    /// </summary>
    private static async Task<Results<Ok<TenantLimitsDto>, ProblemHttpResult>> SetTenantLimitsAsync(
        string id, HttpRequest request, TenantBillingStore tenants, TenantLimits limits, CancellationToken cancellationToken)
    {
        if (!tenants.TenantExists(id))
        {
            return Problems.NotFound("tenant", id);
        }
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var body = document!.RootElement;
            var errors = new List<DefinitionError>();
            if (body.ValueKind != JsonValueKind.Object)
            {
                return Problems.BadRequest("Invalid limits", "Send a JSON object such as {\"requestsPerSecond\": 50, \"maxConcurrentSteps\": 4}.");
            }
            foreach (var property in body.EnumerateObject())
            {
                if (property.Name is not ("requestsPerSecond" or "requestBurst" or "maxConcurrentSteps" or "maxPendingWork" or "newWorkPerSecond" or "newWorkBurst"))
                {
                    errors.Add(new DefinitionError(property.Name, "unknown limit: use requestsPerSecond, requestBurst, maxConcurrentSteps, maxPendingWork, newWorkPerSecond or newWorkBurst"));
                }
            }
            var overrides = new TenantLimitOverrides(
                (int?)Read(body, "requestsPerSecond", 1_000_000, errors),
                (int?)Read(body, "requestBurst", 10_000_000, errors),
                (int?)Read(body, "maxConcurrentSteps", 256, errors),
                Read(body, "maxPendingWork", long.MaxValue, errors),
                (int?)Read(body, "newWorkPerSecond", 10_000_000, errors),
                (int?)Read(body, "newWorkBurst", 100_000_000, errors));
            if (errors.Count > 0)
            {
                return Problems.Invalid("Invalid limits", errors);
            }
            await limits.SetAsync(id, overrides, cancellationToken);
            return TypedResults.Ok(Describe(id, limits));
        }
    }

    private static long? Read(JsonElement body, string name, long max, List<DefinitionError> errors)
    {
        if (!body.TryGetProperty(name, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        if (value.ValueKind != JsonValueKind.Number || !value.TryGetInt64(out var number) || number < 1 || number > max)
        {
            errors.Add(new DefinitionError(name, $"must be a whole number from 1 to {max:N0}, or null for the default"));
            return null;
        }
        return number;
    }

    private static TenantLimitsDto Describe(string tenantId, TenantLimits limits)
    {
        var values = limits.For(tenantId);
        return new TenantLimitsDto(tenantId, values.RequestsPerSecond, values.RequestBurst, values.MaxConcurrentSteps, values.MaxPendingWork,
            values.NewWorkPerSecond, values.NewWorkBurst, limits.Overrides(tenantId));
    }
}
