using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Audit;
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
    private static async Task<Results<Created<PlanDto>, ProblemHttpResult>> CreatePlanAsync(HttpRequest request, PlanStore plans, TimeProvider time, CancellationToken cancellationToken)
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
            var (name, currency) = ReadPlanHeader(body, errors, nameRequired: true);
            var prices = ReadPrices(body, errors);
            if (errors.Count > 0)
            {
                return Problems.Invalid("Invalid plan", errors);
            }
            if (plans.FindByName(name!) is not null)
            {
                return Problems.Conflict("Plan name taken", $"A plan named '{name}' exists already; choose another name or change that plan with PUT /api/platform/v1/plans/{{id}}.");
            }
            var plan = await plans.CreateAsync(name!, currency, prices!, cancellationToken);
            return TypedResults.Created($"/api/platform/v1/plans/{plan.Id}", plan.ToDto(time.GetUtcNow()));
        }
    }

    /// <summary>
    /// Renames the plan and/or adds a version of its prices, effective from <c>effectiveFrom</c> (the first
    /// instant of a UTC month; default: next month), so months already begun keep their prices.
    /// </summary>
    private static async Task<Results<Ok<PlanDto>, ProblemHttpResult>> UpdatePlanAsync(
        string id, HttpRequest request, PlanStore plans, TimeProvider time, CancellationToken cancellationToken)
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
            var now = time.GetUtcNow();
            var effectiveFrom = Pricing.MonthStart(now).AddMonths(1);
            if (body.ValueKind == JsonValueKind.Object && body.TryGetProperty("effectiveFrom", out var from))
            {
                if (from.ValueKind != JsonValueKind.String || !from.TryGetDateTimeOffset(out effectiveFrom) || effectiveFrom != Pricing.MonthStart(effectiveFrom) || effectiveFrom < Pricing.MonthStart(now))
                {
                    errors.Add(new DefinitionError("effectiveFrom", $"must be the start of a UTC month, this one or later, e.g. \"{Pricing.MonthStart(now).AddMonths(1):yyyy-MM-dd'T'HH:mm:ss'Z'}\""));
                }
            }
            if (errors.Count > 0)
            {
                return Problems.Invalid("Invalid plan change", errors);
            }
            if (name is not null && plans.FindByName(name) is { } other && other.Id != id)
            {
                return Problems.Conflict("Plan name taken", $"Another plan is named '{name}'.");
            }
            if (name is not null)
            {
                await plans.RenameAsync(id, name, cancellationToken);
            }
            if (prices is not null)
            {
                await plans.AddVersionAsync(id, prices, effectiveFrom, cancellationToken);
            }
            return TypedResults.Ok(plans.Find(id)!.ToDto(now));
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

    private static Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult> GetTenant(string id, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time)
    {
        var tenant = billing.ListTenants().FirstOrDefault(t => t.TenantId == id);
        return tenant.TenantId is null ? Problems.NotFound("tenant", id) : TypedResults.Ok(Summary(tenant.TenantId, tenant.Name, tenant.Billing, pricing, plans, time));
    }

    /// <summary><c>{"planId": "plan_…"}</c>: the plan prices the tenant's months; with Stripe, the subscription follows.</summary>
    private static async Task<Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult>> AssignPlanAsync(
        string id, HttpRequest request, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!billing.TenantExists(id))
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
            var planId = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("planId", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
            if (planId is null)
            {
                return Problems.BadRequest("Invalid plan assignment", "Send {\"planId\": \"plan_…\"}: the id of a plan from GET /api/platform/v1/plans.");
            }
            if (plans.Find(planId) is null)
            {
                return Problems.BadRequest("Unknown plan", $"planId: no plan '{planId}' exists; list them with GET /api/platform/v1/plans.");
            }
            await billing.AssignPlanAsync(id, planId, cancellationToken);
            await audit.AppendAsync(id, request.HttpContext.Actor(), "billing.plan_assigned", "billing", id, new { planId }, cancellationToken);
            return GetTenant(id, billing, pricing, plans, time);
        }
    }

    /// <summary><c>{"reason": "…"}</c>: the tenant's new runs and gateway calls answer 402 with the reason; its pipelines stop firing.</summary>
    private static async Task<Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult>> SuspendAsync(
        string id, HttpRequest request, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!billing.TenantExists(id))
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
            var reason = body.ValueKind == JsonValueKind.Object && body.TryGetProperty("reason", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString()?.Trim() : null;
            if (string.IsNullOrEmpty(reason) || reason.Length > 500)
            {
                return Problems.BadRequest("Invalid suspension", "Send {\"reason\": \"…\"} (1 to 500 characters): the tenant sees it in every refusal.");
            }
            await billing.SetSuspensionAsync(id, reason, cancellationToken);
            await audit.AppendAsync(id, request.HttpContext.Actor(), "billing.suspended", "billing", id, new { reason }, cancellationToken);
            return GetTenant(id, billing, pricing, plans, time);
        }
    }

    private static async Task<Results<Ok<TenantBillingSummaryDto>, ProblemHttpResult>> ResumeAsync(
        string id, HttpContext context, TenantBillingStore billing, Pricing pricing, PlanStore plans, TimeProvider time, AuditLog audit, CancellationToken cancellationToken)
    {
        if (!billing.TenantExists(id))
        {
            return Problems.NotFound("tenant", id);
        }
        await billing.SetSuspensionAsync(id, null, cancellationToken);
        await audit.AppendAsync(id, context.Actor(), "billing.resumed", "billing", id, null, cancellationToken);
        return GetTenant(id, billing, pricing, plans, time);
    }

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

    private static TenantBillingSummaryDto Summary(string id, string name, TenantBilling billing, Pricing pricing, PlanStore plans, TimeProvider time)
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
