using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.Billing;

public sealed record StripeSessionDto(string Url);

public static class BillingApi
{
    public const string ProjectionMethod = "linear: each meter's quantity so far × (length of the month / time elapsed), priced with the plan, plus the whole base fee";

    public static RouteGroupBuilder MapBillingApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/billing").WithTags("Billing");
        group.MapGet("/", Get);
        group.MapPut("/cap", SetCapAsync);
        group.MapPut("/contacts", SetContactsAsync);
        group.MapGet("/invoices", InvoicesAsync);
        group.MapPost("/portal-session", PortalSessionAsync);
        group.MapPost("/checkout-session", CheckoutSessionAsync);
        return group;
    }

    /// <summary>The tenant's plan, the month so far and its projection, cap, alerts and state.</summary>
    private static Ok<BillingDto> Get(CurrentTenant tenant, TenantBillingStore billing, Pricing pricing, SpendingGuard spending, IOptions<StripeOptions> stripe, TimeProvider time) =>
        TypedResults.Ok(Describe(tenant.Id, billing, pricing, spending, stripe.Value, time));

    public static BillingDto Describe(string tenantId, TenantBillingStore billing, Pricing pricing, SpendingGuard spending, StripeOptions stripe, TimeProvider time)
    {
        var now = time.GetUtcNow();
        var settings = billing.Get(tenantId);
        var month = pricing.CurrentMonth(tenantId);
        CapDto? cap = null;
        if (settings.CapUsd is { } capUsd)
        {
            var counted = spending.CountedUsd(tenantId) ?? 0;
            cap = new CapDto(capUsd, settings.AlertThresholds, BillingDtoMapping.Round(counted),
                capUsd == 0 ? 100 : Math.Round(counted * 100 / capUsd, 2), counted >= capUsd);
        }
        var alerts = billing.Alerts(tenantId, month.MonthStart.ToString("yyyy-MM", System.Globalization.CultureInfo.InvariantCulture))
            .Select(a => new AlertDto(a.Threshold, a.AmountUsd, a.CapUsd, DateTimeOffset.FromUnixTimeMilliseconds(a.SentAt))).ToList();
        var projected = month.Projected;
        return new BillingDto(
            pricing.PlanOf(tenantId).ToRef(month.MonthStart), month.ToDate.ToDto(),
            new ProjectionDto(BillingDtoMapping.Round(projected.TotalUsd), BillingDtoMapping.Round(projected.UsageUsd), projected.BaseFeeUsd, ProjectionMethod),
            cap, billing.Contacts(tenantId), alerts, settings.State, settings.StateReason,
            settings.GraceUntil is { } grace ? DateTimeOffset.FromUnixTimeMilliseconds(grace) : null,
            settings.SuspendedReason is not null, settings.Refusal(now) ?? (cap is { Reached: true } ? spending.NewWorkRefusal(tenantId) : null),
            !stripe.Enabled, stripe.Enabled ? null : StripeOptions.LedgerOnlyReason);
    }

    /// <summary><c>{"monthlyUsd": 100, "alertThresholds": [50, 80, 100]}</c>; <c>"monthlyUsd": null</c> removes the cap.</summary>
    private static async Task<Results<Ok<BillingDto>, ProblemHttpResult>> SetCapAsync(
        HttpContext context, CurrentTenant tenant, BillingChanges changes, TenantBillingStore billing, Pricing pricing, SpendingGuard spending, IOptions<StripeOptions> stripe, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var body = document!.RootElement;
            if (body.ValueKind != JsonValueKind.Object)
            {
                return Problems.BadRequest("Invalid cap", "Send a JSON object such as {\"monthlyUsd\": 100, \"alertThresholds\": [50, 80, 100]}.");
            }
            var errors = new List<DefinitionError>();
            decimal? cap = null;
            int[]? thresholds = null;
            if (!body.TryGetProperty("monthlyUsd", out var capValue))
            {
                errors.Add(new DefinitionError("monthlyUsd", "is required: the monthly spending cap in USD, or null to remove the cap"));
            }
            else if (capValue.ValueKind != JsonValueKind.Null)
            {
                if (capValue.ValueKind == JsonValueKind.Number && capValue.TryGetDecimal(out var usd))
                {
                    cap = usd;
                }
                else
                {
                    errors.Add(new DefinitionError("monthlyUsd", "must be a number of USD from 0 to 10,000,000, or null to remove the cap"));
                }
            }
            foreach (var property in body.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "monthlyUsd":
                        break;
                    case "alertThresholds":
                        thresholds = ReadThresholds(property.Value, errors);
                        break;
                    default:
                        errors.Add(new DefinitionError(property.Name, "unknown property; the cap has monthlyUsd and alertThresholds (alerts go to the billing contacts: PUT /api/v1/billing/contacts)"));
                        break;
                }
            }
            if (errors.Count > 0)
            {
                errors.AddRange(BillingChanges.CapErrors(cap, thresholds ?? TenantBilling.DefaultThresholds).Where(e => !errors.Any(known => e.Path.StartsWith(known.Path, StringComparison.Ordinal))));
                return Problems.Invalid("Invalid cap", errors);
            }
            var change = await changes.SetCapAsync(tenant.Id, context.Actor(), cap, thresholds, cancellationToken);
            return change.Saved is null
                ? Problems.Invalid("Invalid cap", change.Errors)
                : TypedResults.Ok(Describe(tenant.Id, billing, pricing, spending, stripe.Value, time));
        }
    }

    /// <summary><c>{"contacts": ["billing@example.com"]}</c>: where spending alerts go; an empty list sends them to the owners and admins.</summary>
    private static async Task<Results<Ok<BillingDto>, ProblemHttpResult>> SetContactsAsync(
        HttpContext context, CurrentTenant tenant, BillingChanges changes, TenantBillingStore billing, Pricing pricing, SpendingGuard spending, IOptions<StripeOptions> stripe, TimeProvider time,
        CancellationToken cancellationToken)
    {
        var (document, problem) = await JsonBody.ReadAsync(context.Request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var body = document!.RootElement;
            if (body.ValueKind != JsonValueKind.Object || !body.TryGetProperty("contacts", out var list) || list.ValueKind != JsonValueKind.Array
                || list.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String) || body.EnumerateObject().Count() != 1)
            {
                return Problems.BadRequest("Invalid contacts", "Send {\"contacts\": [\"billing@example.com\"]}: a list of up to 10 e-mail addresses (an empty list sends alerts to the owners and admins).");
            }
            var change = await changes.SetContactsAsync(tenant.Id, context.Actor(), list.EnumerateArray().Select(e => e.GetString()!).ToList(), cancellationToken);
            return change.Saved is null
                ? Problems.Invalid("Invalid contacts", change.Errors)
                : TypedResults.Ok(Describe(tenant.Id, billing, pricing, spending, stripe.Value, time));
        }
    }

    /// <summary>Stripe's customer portal (payment methods, invoices) for the tenant's customer.</summary>
    private static async Task<Results<Ok<StripeSessionDto>, ProblemHttpResult>> PortalSessionAsync(
        CurrentTenant tenant, TenantBillingStore billing, StripeBilling stripe, IOptions<BillingOptions> options, CancellationToken cancellationToken)
    {
        if (StripeReady(tenant.Id, billing, stripe) is { } problem)
        {
            return problem;
        }
        return TypedResults.Ok(new StripeSessionDto(await stripe.PortalSessionUrlAsync(billing.Get(tenant.Id).StripeCustomerId!, options.Value.ReturnUrl, cancellationToken)));
    }

    /// <summary>Stripe Checkout for the first subscription, with the plan's prices.</summary>
    private static async Task<Results<Ok<StripeSessionDto>, ProblemHttpResult>> CheckoutSessionAsync(
        CurrentTenant tenant, TenantBillingStore billing, StripeBilling stripe, IOptions<BillingOptions> options, CancellationToken cancellationToken)
    {
        var settings = billing.Get(tenant.Id);
        if (SessionRefusal(settings, stripe.Enabled, checkout: true) is { } refusal)
        {
            return Problems.Conflict(refusal.Title, refusal.Detail);
        }
        return TypedResults.Ok(new StripeSessionDto(await stripe.CheckoutSessionUrlAsync(tenant.Id, settings.StripeCustomerId!, options.Value.ReturnUrl, cancellationToken)));
    }

    private static ProblemHttpResult? StripeReady(string tenantId, TenantBillingStore billing, StripeBilling stripe) =>
        SessionRefusal(billing.Get(tenantId), stripe.Enabled, checkout: false) is { } refusal ? Problems.Conflict(refusal.Title, refusal.Detail) : null;

    /// <summary>Why the tenant cannot open Stripe's customer portal (or Checkout) now, or null: shared by the API and the billing page.</summary>
    public static (string Title, string Detail)? SessionRefusal(TenantBilling settings, bool stripeEnabled, bool checkout)
    {
        if (!stripeEnabled)
        {
            return ("Ledger-only mode", StripeOptions.LedgerOnlyReason);
        }
        if (settings.StripeCustomerId is null)
        {
            return ("No Stripe customer yet", "The tenant's Stripe customer is being created (it is queued at sign-up and sent when Stripe answers); try again in a minute.");
        }
        if (checkout && settings.PlanId is null)
        {
            return ("No plan", "This tenant has no plan yet; the platform administrators assign one (PUT /api/platform/v1/tenants/{id}/plan).");
        }
        if (checkout && settings.StripeSubscriptionId is not null)
        {
            return ("Already subscribed", "This tenant has a subscription; manage it in the customer portal (POST /api/v1/billing/portal-session).");
        }
        return null;
    }

    /// <summary>The tenant's latest Stripe invoices, newest first.</summary>
    private static async Task<Results<Ok<IReadOnlyList<InvoiceDto>>, ProblemHttpResult>> InvoicesAsync(
        CurrentTenant tenant, TenantBillingStore billing, StripeBilling stripe, CancellationToken cancellationToken)
    {
        if (StripeReady(tenant.Id, billing, stripe) is { } problem)
        {
            return problem;
        }
        return TypedResults.Ok(await stripe.InvoicesAsync(billing.Get(tenant.Id).StripeCustomerId!, 24, cancellationToken));
    }

    private static int[]? ReadThresholds(JsonElement value, List<DefinitionError> errors)
    {
        if (value.ValueKind != JsonValueKind.Array)
        {
            errors.Add(new DefinitionError("alertThresholds", "must be an array of 1 to 10 percentages of the cap, e.g. [50, 80, 100]"));
            return null;
        }
        var thresholds = new List<int>();
        var index = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind == JsonValueKind.Number && item.TryGetInt32(out var percent))
            {
                thresholds.Add(percent);
            }
            else
            {
                errors.Add(new DefinitionError($"alertThresholds[{index}]", "must be a whole percentage of the cap from 1 to 1000"));
            }
            index++;
        }
        return thresholds.ToArray();
    }
}
