using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Billing;
using Saas.Web.Api;
using Stripe;

namespace Saas.Web.Billing;

/// <summary>
/// <c>POST /billing/stripe/webhook</c>: Stripe's events, signature verified (anything else is refused),
/// handled once per event id, whatever API version the endpoint was created with.
/// </summary>
public static partial class StripeWebhookApi
{
    private const int MaxBodyBytes = 1 << 20;

    /// <summary>How old a signature may be (Stripe's default tolerance), against replays.</summary>
    private const long ToleranceSeconds = 300;

    public static RouteHandlerBuilder MapStripeWebhookApi(this IEndpointRouteBuilder app) =>
        app.MapPost("/billing/stripe/webhook", ReceiveAsync).AllowAnonymous().WithTags("Billing").DisableAntiforgery();

    private static async Task<Results<Ok<WebhookAnswer>, ProblemHttpResult>> ReceiveAsync(
        HttpRequest request, IOptions<StripeOptions> stripe, IOptions<BillingOptions> options, TenantBillingStore billing, StripeUsageExport export,
        TimeProvider time, ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        if (string.IsNullOrEmpty(stripe.Value.WebhookSecret))
        {
            return TypedResults.Problem(statusCode: 503, title: "Webhook not configured", detail: "Set Stripe:WebhookSecret (the endpoint's signing secret, whsec_…) to receive Stripe events.");
        }
        if (request.ContentLength > MaxBodyBytes)
        {
            return Problems.TooLarge(MaxBodyBytes);
        }
        string json;
        using (var reader = new StreamReader(request.Body))
        {
            json = await reader.ReadToEndAsync(cancellationToken);
        }
        Event stripeEvent;
        try
        {
            stripeEvent = EventUtility.ConstructEvent(json, request.Headers["Stripe-Signature"].ToString(), stripe.Value.WebhookSecret,
                ToleranceSeconds, time.GetUtcNow().ToUnixTimeSeconds(), throwOnApiVersionMismatch: false);
        }
        catch (StripeException invalid)
        {
            return Problems.BadRequest("Invalid Stripe signature", $"The Stripe-Signature header does not verify this body with the configured secret, or is older than {ToleranceSeconds} s: {invalid.Message}");
        }
        if (export.WebhookEventSeen(stripeEvent.Id))
        {
            return TypedResults.Ok(new WebhookAnswer(stripeEvent.Id, stripeEvent.Type, "already handled"));
        }
        var outcome = await HandleAsync(stripeEvent, billing, options.Value, time, cancellationToken);
        await export.RecordWebhookEventAsync(stripeEvent.Id, stripeEvent.Type, cancellationToken);
        LogHandled(loggers.CreateLogger(typeof(StripeWebhookApi)), stripeEvent.Id, stripeEvent.Type, outcome);
        return TypedResults.Ok(new WebhookAnswer(stripeEvent.Id, stripeEvent.Type, outcome));
    }

    /// <summary>Applies the event to the tenant's billing state; the state changes are idempotent, so a redelivery after a crash does no harm.</summary>
    private static async Task<string> HandleAsync(Event stripeEvent, TenantBillingStore billing, BillingOptions options, TimeProvider time, CancellationToken cancellationToken)
    {
        var customerId = stripeEvent.Data.Object switch
        {
            Invoice invoice => invoice.CustomerId,
            Subscription subscription => subscription.CustomerId,
            Customer customer => customer.Id,
            _ => null,
        };
        var tenantId = customerId is null ? null : billing.FindTenantByCustomer(customerId);
        if (tenantId is null)
        {
            return customerId is null ? "ignored: not an event Flowgate handles" : $"ignored: customer {customerId} is no tenant's";
        }
        switch (stripeEvent.Type, stripeEvent.Data.Object)
        {
            case (EventTypes.InvoicePaid, Invoice invoice):
                await billing.SetStateAsync(tenantId, BillingStates.Active, $"invoice {invoice.Id} paid", null, cancellationToken);
                return "active";
            case (EventTypes.InvoicePaymentFailed, Invoice invoice):
                var current = billing.Get(tenantId);
                if (current.State != BillingStates.PastDue)
                {
                    await billing.SetStateAsync(tenantId, BillingStates.PastDue, $"payment of invoice {invoice.Id} failed", time.GetUtcNow().AddDays(options.GraceDays), cancellationToken);
                }
                return "past_due";
            case (EventTypes.CustomerSubscriptionUpdated, Subscription subscription):
                await billing.SetStripeIdsAsync(tenantId, null, subscription.Id, cancellationToken);
                if (subscription.Status is "canceled")
                {
                    await billing.SetStateAsync(tenantId, BillingStates.Canceled, $"subscription {subscription.Id} canceled", null, cancellationToken);
                }
                else if (subscription.Status is "active" && billing.Get(tenantId).State == BillingStates.Canceled)
                {
                    await billing.SetStateAsync(tenantId, BillingStates.Active, $"subscription {subscription.Id} active", null, cancellationToken);
                }
                return $"subscription {subscription.Status}";
            case (EventTypes.CustomerSubscriptionDeleted, Subscription subscription):
                await billing.ClearSubscriptionAsync(tenantId, cancellationToken);
                await billing.SetStateAsync(tenantId, BillingStates.Canceled, $"subscription {subscription.Id} deleted", null, cancellationToken);
                return "canceled";
            case (EventTypes.CustomerUpdated, Customer customer):
                if (billing.Contacts(tenantId).Count == 0 && !string.IsNullOrEmpty(customer.Email))
                {
                    await billing.SetContactsAsync(tenantId, [customer.Email], cancellationToken);
                }
                return "customer updated";
            default:
                return "ignored: not an event Flowgate handles";
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Stripe event {EventId} ({Type}): {Outcome}")]
    private static partial void LogHandled(ILogger logger, string eventId, string type, string outcome);
}

public sealed record WebhookAnswer(string Id, string Type, string Outcome);
