using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using System.Security.Claims;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Billing;

namespace Saas.Web.Platform;

public sealed record PlanVersionDto(long Version, DateTimeOffset EffectiveFrom, JsonElement Prices);

public sealed record PlanDto(string Id, string Name, string Currency, long CurrentVersion, IReadOnlyList<PlanVersionDto> Versions);

public sealed record TenantBillingSummaryDto(
    string Id, string Name, PlanRefDto? Plan, ChargeDto MonthToDate, decimal? CapUsd, string State, string? StateReason,
    DateTimeOffset? GraceUntil, bool Suspended, string? SuspendedReason, string? StripeCustomerId, string? StripeSubscriptionId);

/// <summary>
/// <c>/api/platform/v1</c>: what the platform's administrators run the business with. Authenticated by
/// platform keys only (a platform role, not a tenant role).
/// </summary>
public static class PlatformApi
{
    public static RouteGroupBuilder MapPlatformApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/platform/v1").RequireAuthorization(PlatformKeyAuthentication.Policy).WithTags("Platform");
        group.MapGet("/plans", ListPlans);
        group.MapPost("/plans", CreatePlanAsync);
        group.MapGet("/plans/{id}", GetPlan);
        group.MapPut("/plans/{id}", UpdatePlanAsync);
        group.MapDelete("/plans/{id}", DeletePlanAsync);
        group.MapGet("/tenants", ListTenants);
        group.MapGet("/tenants/{id}", GetTenant);
        group.MapPut("/tenants/{id}/plan", AssignPlanAsync);
        group.MapPost("/tenants/{id}/suspend", SuspendAsync);
        group.MapPost("/tenants/{id}/resume", ResumeAsync);
        group.MapGet("/reconciliation", Reconciliation);
        group.MapPost("/reconciliation", ReconcileAsync);
        return group;
    }

    private static Ok<List<PlanDto>> ListPlans(PlanStore plans, TimeProvider time) =>
        TypedResults.Ok(plans.List().Select(p => p.ToDto(time.GetUtcNow())).ToList());

    private static Results<Ok<PlanDto>, ProblemHttpResult> GetPlan(string id, PlanStore plans, TimeProvider time) =>
        plans.Find(id) is { } plan ? TypedResults.Ok(plan.ToDto(time.GetUtcNow())) : Problems.NotFound("plan", id);

    /// <summary><c>{"name": "pro", "currency": "usd", "baseFeeUsd": 49, "meters": {…}}</c> (see <see cref="PlanPrices.Parse"/>).</summary>
    private static async Task<Results<Created<PlanDto>, ProblemHttpResult>> CreatePlanAsync(HttpRequest request, PlatformChanges changes, TimeProvider time, CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var body = document!.RootElement;
            var errors = new List<DefinitionError>();
            var (name, _) = ReadPlanHeader(body, errors, nameRequired: true);
            var prices = ReadPrices(body, errors);
            if (errors.Count > 0)
            {
                return Problems.Invalid("Invalid plan", errors);
            }
            var change = await changes.CreatePlanAsync(name!, prices!, cancellationToken);
            return change.Saved is not { } plan
                ? Problems.Invalid("Invalid plan", change.Errors)
                : TypedResults.Created($"/api/platform/v1/plans/{plan.Id}", plan.ToDto(time.GetUtcNow()));
        }
    }

    /// <summary>
    /// Renames the plan and/or adds a version of its prices, effective from <c>effectiveFrom</c> (the first
    /// instant of a UTC month; default: next month), so months already begun keep their prices.
    /// </summary>
    private static async Task<Results<Ok<PlanDto>, ProblemHttpResult>> UpdatePlanAsync(
        string id, HttpRequest request, PlanStore plans, PlatformChanges changes, TimeProvider time, CancellationToken cancellationToken)
    {
        if (plans.Find(id) is null)
        {
            return Problems.NotFound("plan", id);
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
            var (name, _) = ReadPlanHeader(body, errors, nameRequired: false, allowEffectiveFrom: true);
            var changesPrices = body.ValueKind == JsonValueKind.Object && (body.TryGetProperty("meters", out _) || body.TryGetProperty("baseFeeUsd", out _));
            var prices = changesPrices ? ReadPrices(body, errors) : null;
            DateTimeOffset? effectiveFrom = null;
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("effectiveFrom", out var from))
            {
                if (from.ValueKind == JsonValueKind.String && from.TryGetDateTimeOffset(out var at))
                {
                    effectiveFrom = at;
                }
                else
                {
                    errors.Add(new DefinitionError("effectiveFrom", "must be the start of a UTC month as a date-time string, e.g. \"2027-01-01T00:00:00Z\""));
                }
            }
            if (errors.Count > 0)
            {
                return Problems.Invalid("Invalid plan change", errors);
            }
            if (name is not null && await changes.RenamePlanAsync(id, name, cancellationToken) is { Saved: null } renamed)
            {
                return Problems.Invalid("Invalid plan change", renamed.Errors);
            }
            if (prices is not null && await changes.AddPricesAsync(id, prices, effectiveFrom, cancellationToken) is { Saved: null } versioned)
            {
                return Problems.Invalid("Invalid plan change", versioned.Errors);
            }
            return TypedResults.Ok(plans.Find(id)!.ToDto(time.GetUtcNow()));
        }
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeletePlanAsync(string id, PlanStore plans, CancellationToken cancellationToken) =>
        await plans.DeleteAsync(id, cancellationToken) switch
        {
            true => TypedResults.NoContent(),
            false => Problems.Conflict("Plan in use", $"Plan '{id}' is assigned to tenants; assign them another plan (PUT /api/platform/v1/tenants/{{id}}/plan) before deleting it."),
            null => Problems.NotFound("plan", id),
        };

    private static Ok<List<TenantBillingSummaryDto>> ListTenants(TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time) =>
        TypedResults.Ok(billing.ListTenants().Select(t => Summary(t.TenantId, t.Name, t.Billing, pricing, plans, time)).ToList());

    private static Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult> GetTenant(string id, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time) =>
        billing.FindTenant(id) is { } tenant ? TypedResults.Ok(Summary(tenant.TenantId, tenant.Name, tenant.Billing, pricing, plans, time)) : Problems.NotFound("tenant", id);

    /// <summary><c>{"planId": "plan_…"}</c>: the plan prices the tenant's months; with Stripe, the subscription follows.</summary>
    private static async Task<Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult>> AssignPlanAsync(
        string id, HttpContext context, PlatformChanges changes, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!billing.TenantExists(id))
        {
            return Problems.NotFound("tenant", id);
        }
        var (planId, problem) = await JsonBody.ReadStringAsync(context.Request, "planId", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        if (planId is null)
        {
            return Problems.BadRequest("Invalid plan assignment", "Send {\"planId\": \"plan_…\"}: the id of a plan from GET /api/platform/v1/plans.");
        }
        return await changes.AssignPlanAsync(id, context.Actor(), planId, cancellationToken) switch
        {
            null => Problems.NotFound("tenant", id),
            { Saved: null } assigned => Problems.Invalid("Unknown plan", assigned.Errors),
            _ => GetTenant(id, billing, pricing, plans, time),
        };
    }

    /// <summary><c>{"reason": "…"}</c>: the tenant's new runs and gateway calls answer 402 with the reason; its pipelines stop firing.</summary>
    private static async Task<Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult>> SuspendAsync(
        string id, HttpContext context, PlatformChanges changes, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!billing.TenantExists(id))
        {
            return Problems.NotFound("tenant", id);
        }
        var (reason, problem) = await JsonBody.ReadStringAsync(context.Request, "reason", cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        return await changes.SuspendAsync(id, context.Actor(), reason, cancellationToken) switch
        {
            null => Problems.NotFound("tenant", id),
            { Saved: null } => Problems.BadRequest("Invalid suspension", $"Send {{\"reason\": \"…\"}} (1 to {PlatformChanges.MaxReasonLength} characters): the tenant sees it in every refusal."),
            _ => GetTenant(id, billing, pricing, plans, time),
        };
    }

    private static async Task<Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult>> ResumeAsync(
        string id, HttpContext context, PlatformChanges changes, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time, CancellationToken cancellationToken) =>
        await changes.ResumeAsync(id, context.Actor(), cancellationToken) ? GetTenant(id, billing, pricing, plans, time) : Problems.NotFound("tenant", id);

    /// <summary>The latest comparison of the ledger with Stripe's meter event summaries.</summary>
    private static Results<ContentHttpResult, ProblemHttpResult> Reconciliation(StripeUsageExport export) =>
        export.LatestReconciliation() is { } report
            ? TypedResults.Text(report, "application/json")
            : Problems.NotFound("reconciliation report", "latest");

    /// <summary>Reconciles the current month now (the relay also does it on its own, every Flowgate:Billing:ReconcileIntervalMinutes).</summary>
    private static async Task<Results<ContentHttpResult, ProblemHttpResult>> ReconcileAsync(StripeBilling stripe, StripeUsageExport export, TimeProvider time, CancellationToken cancellationToken)
    {
        if (!stripe.Enabled)
        {
            return Problems.Conflict("Ledger-only mode", StripeOptions.LedgerOnlyReason);
        }
        var now = time.GetUtcNow();
        var (_, report) = await stripe.ReconcileAsync(export, Pricing.MonthStart(now), StripeBilling.NextMinute(now), cancellationToken);
        return TypedResults.Text(report, "application/json");
    }

    public static TenantBillingSummaryDto Summary(string id, string name, TenantBilling billing, Pricing pricing, PlanStore plans, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var monthStart = Pricing.MonthStart(now);
        var plan = billing.PlanId is { } planId ? plans.Find(planId) : null;
        return new TenantBillingSummaryDto(id, name, plan.ToRef(monthStart), pricing.Price(plan, id, monthStart, now).ToDto(), billing.CapUsd, billing.State, billing.StateReason,
            billing.GraceUntil is { } grace ? DateTimeOffset.FromUnixTimeMilliseconds(grace) : null, billing.SuspendedReason is not null, billing.SuspendedReason,
            billing.StripeCustomerId, billing.StripeSubscriptionId);
    }

    private static (string? Name, string Currency) ReadPlanHeader(JsonElement body, List<DefinitionError> errors, bool nameRequired, bool allowEffectiveFrom = false)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new DefinitionError("", "the body must be a JSON object: {\"name\": \"pro\", \"currency\": \"usd\", \"baseFeeUsd\": 49, \"meters\": {…}}"));
            return (null, "usd");
        }
        string? name = null;
        foreach (var property in body.EnumerateObject())
        {
            switch (property.Name)
            {
                case "name":
                    name = property.Value.ValueKind == JsonValueKind.String ? property.Value.GetString()!.Trim() : null;
                    if (string.IsNullOrEmpty(name) || name.Length > 100)
                    {
                        errors.Add(new DefinitionError("name", "must be a string of 1 to 100 characters"));
                    }
                    break;
                case "currency":
                    if (property.Value.ValueKind != JsonValueKind.String || property.Value.GetString() != "usd")
                    {
                        errors.Add(new DefinitionError("currency", "must be \"usd\" (the only currency plans are priced in)"));
                    }
                    break;
                case "baseFeeUsd" or "meters":
                    break;
                case "effectiveFrom" when allowEffectiveFrom:
                    break;
                default:
                    errors.Add(new DefinitionError(property.Name, $"unknown property; a plan has name, currency, baseFeeUsd and meters{(allowEffectiveFrom ? ", and a change may have effectiveFrom" : "")}"));
                    break;
            }
        }
        if (nameRequired && name is null && !errors.Any(e => e.Path == "name"))
        {
            errors.Add(new DefinitionError("name", "is required"));
        }
        return (name, "usd");
    }

    private static PlanPrices? ReadPrices(JsonElement body, List<DefinitionError> errors)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            return null;
        }
        var (prices, priceErrors) = PlanPrices.Parse(body);
        errors.AddRange(priceErrors);
        return prices;
    }

    private static PlanDto ToDto(this Plan plan, DateTimeOffset now) => new(
        plan.Id, plan.Name, plan.Currency, plan.VersionFor(Pricing.MonthStart(now)).Version,
        plan.Versions.Select(v => new PlanVersionDto(v.Version, DateTimeOffset.FromUnixTimeMilliseconds(v.EffectiveFrom), JsonSerializer.SerializeToElement(v.Prices.ToJson()))).ToList());
}
