using System.Globalization;
using System.Text.Json;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Billing;
using Stripe;

namespace Saas.Web.Billing;

/// <summary>
/// Flowgate's calls to Stripe, through Stripe.net. Stripe is told from the ledger, never the other way
/// round. Stripe.net's own retries are off: the relay decides when to try again (backoff on 429 and 5xx).
/// </summary>
public sealed class StripeBilling(IOptions<StripeOptions> options, PlanStore plans, TenantBillingStore billing)
{
    private readonly Lazy<IStripeClient?> _client = new(() => options.Value.Enabled
        ? new StripeClient(options.Value.ApiKey, httpClient: new SystemNetHttpClient(new HttpClient { Timeout = TimeSpan.FromSeconds(30) }, maxNetworkRetries: 0),
            apiBase: string.IsNullOrWhiteSpace(options.Value.ApiBase) ? null : options.Value.ApiBase)
        : null);

    public bool Enabled => options.Value.Enabled;

    private IStripeClient Client => _client.Value ?? throw new InvalidOperationException(StripeOptions.LedgerOnlyReason);

    /// <summary>
    /// Stripe meter event names: one Stripe meter per ledger meter, and one per model a plan prices on its own
    /// (<c>flowgate_llm_input_tokens__gpt_4o</c>), so invoices show tokens per model at the model's price.
    /// </summary>
    public static string EventName(string meter, string? model = null) => model is null ? $"flowgate_{meter}" : $"flowgate_{meter}__{Slug(model)}";

    /// <summary>The ledger meter a Stripe meter event name counts (model meters count their token meter).</summary>
    public static string LedgerMeter(string eventName) => eventName["flowgate_".Length..].Split("__")[0];

    private static string Slug(string model) =>
        new string(model.ToLowerInvariant().Select(c => char.IsAsciiLetterOrDigit(c) ? c : '_').Take(60).ToArray());

    /// <summary>The model whose own Stripe meter counts this usage: a token meter's model that the tenant's plan prices separately, else null.</summary>
    private string? PricedModel(string tenantId, string meter, string? model)
    {
        if (model is null || !PlanPrices.IsTokenMeter(meter) || billing.Get(tenantId).PlanId is not { } planId || plans.Find(planId) is not { } plan)
        {
            return null;
        }
        return plan.VersionFor(Pricing.MonthStart(DateTimeOffset.UtcNow)).Prices.Meters.TryGetValue(meter, out var price) && price.ModelPricesUsd.ContainsKey(model) ? model : null;
    }

    public async Task CreateCustomerAsync(string tenantId, CancellationToken cancellationToken)
    {
        if (billing.GetCurrent(tenantId).StripeCustomerId is not null)
        {
            return;
        }
        var customer = await new CustomerService(Client).CreateAsync(new CustomerCreateOptions
        {
            Description = $"Flowgate tenant {tenantId}",
            Metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId },
        }, new RequestOptions { IdempotencyKey = $"create-customer-{tenantId}" }, cancellationToken);
        await billing.SetStripeIdsAsync(tenantId, customer.Id, null, cancellationToken);
    }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, string> _meterIds = new(StringComparer.Ordinal);

    /// <summary>The Stripe meter of a ledger meter (Stripe refuses events of a meter it does not have): found by event name, created when missing.</summary>
    private async Task<string> MeterIdAsync(string meter, string? model, CancellationToken cancellationToken)
    {
        var eventName = EventName(meter, model);
        if (_meterIds.TryGetValue(eventName, out var known))
        {
            return known;
        }
        var service = new Stripe.Billing.MeterService(Client);
        var meters = await service.ListAsync(new Stripe.Billing.MeterListOptions { Limit = 100 }, cancellationToken: cancellationToken);
        var id = meters.Data.FirstOrDefault(m => m.EventName == eventName)?.Id
            ?? (await service.CreateAsync(new Stripe.Billing.MeterCreateOptions
            {
                DisplayName = model is null ? $"Flowgate {meter}" : $"Flowgate {meter} ({model})",
                EventName = eventName,
                DefaultAggregation = new Stripe.Billing.MeterDefaultAggregationOptions { Formula = "sum" },
                CustomerMapping = new Stripe.Billing.MeterCustomerMappingOptions { EventPayloadKey = "stripe_customer_id", Type = "by_id" },
                ValueSettings = new Stripe.Billing.MeterValueSettingsOptions { EventPayloadKey = "value" },
            }, new RequestOptions { IdempotencyKey = $"meter-{eventName}" }, cancellationToken)).Id;
        _meterIds[eventName] = id;
        return id;
    }

    /// <summary>
    /// Sends a batch of usage events as meter events, each with its ledger identifier (and the same
    /// Idempotency-Key), one after the other. Stops at the first failure.
    /// </summary>
    /// <returns>The events Stripe accepted, and the failure that stopped the batch, if any.</returns>
    public async Task<(List<PendingMeterEvent> Sent, StripeException? Failure)> SendMeterEventsAsync(IReadOnlyList<PendingMeterEvent> batch, CancellationToken cancellationToken)
    {
        var models = batch.Select(e => PricedModel(e.TenantId, e.Meter, e.Model)).ToList();
        foreach (var (meter, model) in batch.Select((e, i) => (e.Meter, models[i])).Distinct())
        {
            await MeterIdAsync(meter, model, cancellationToken);
        }
        var service = new Stripe.Billing.MeterEventService(Client);
        var sent = new List<PendingMeterEvent>(batch.Count);
        foreach (var (usage, model) in batch.Zip(models))
        {
            try
            {
                await service.CreateAsync(new Stripe.Billing.MeterEventCreateOptions
                {
                    EventName = EventName(usage.Meter, model),
                    Identifier = usage.Identifier,
                    Timestamp = DateTimeOffset.FromUnixTimeMilliseconds(usage.OccurredAt).UtcDateTime,
                    Payload = new Dictionary<string, string>
                    {
                        ["stripe_customer_id"] = usage.StripeCustomerId,
                        ["value"] = usage.Quantity.ToString(CultureInfo.InvariantCulture),
                    },
                }, new RequestOptions { IdempotencyKey = usage.Identifier }, cancellationToken);
                sent.Add(usage);
            }
            catch (StripeException duplicate) when (duplicate.StripeError?.Code == "resource_already_exists")
            {
                // The crash window: Stripe took it before we recorded its answer.
                sent.Add(usage);
            }
            catch (StripeException failure)
            {
                return (sent, failure);
            }
        }
        return (sent, null);
    }

    /// <summary>Sums of the customer's meter events per Flowgate meter in [from, to), as Stripe counts them.</summary>
    public async Task<Dictionary<string, decimal>> MeterSummariesAsync(string customerId, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var meters = await new Stripe.Billing.MeterService(Client).ListAsync(new Stripe.Billing.MeterListOptions { Limit = 100 }, cancellationToken: cancellationToken);
        var totals = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var meter in meters.Data.Where(m => m.EventName.StartsWith("flowgate_", StringComparison.Ordinal)))
        {
            var summaries = await new Stripe.Billing.MeterEventSummaryService(Client).ListAsync(meter.Id, new Stripe.Billing.MeterEventSummaryListOptions
            {
                Customer = customerId,
                StartTime = from.UtcDateTime,
                EndTime = to.UtcDateTime,
            }, cancellationToken: cancellationToken);
            var ledgerMeter = LedgerMeter(meter.EventName);
            totals[ledgerMeter] = totals.GetValueOrDefault(ledgerMeter) + summaries.Data.Sum(s => (decimal)s.AggregatedValue);
        }
        return totals;
    }

    /// <summary>The customer's latest invoices, newest first, as Stripe has them.</summary>
    public async Task<IReadOnlyList<InvoiceDto>> InvoicesAsync(string customerId, int limit, CancellationToken cancellationToken)
    {
        var invoices = await new InvoiceService(Client).ListAsync(new InvoiceListOptions { Customer = customerId, Limit = limit }, cancellationToken: cancellationToken);
        return invoices.Data.Select(i => new InvoiceDto(
            i.Id, i.Number, i.Status, i.Currency, i.Total / 100m, i.AmountDue / 100m, i.AmountPaid / 100m,
            new DateTimeOffset(DateTime.SpecifyKind(i.Created, DateTimeKind.Utc)), new DateTimeOffset(DateTime.SpecifyKind(i.PeriodStart, DateTimeKind.Utc)),
            new DateTimeOffset(DateTime.SpecifyKind(i.PeriodEnd, DateTimeKind.Utc)), i.HostedInvoiceUrl)).ToList();
    }

    public async Task<string> PortalSessionUrlAsync(string customerId, string returnUrl, CancellationToken cancellationToken) =>
        (await new Stripe.BillingPortal.SessionService(Client).CreateAsync(new Stripe.BillingPortal.SessionCreateOptions { Customer = customerId, ReturnUrl = returnUrl }, cancellationToken: cancellationToken)).Url;

    /// <summary>A Checkout session for the first subscription, with the prices of the tenant's plan.</summary>
    public async Task<string> CheckoutSessionUrlAsync(string tenantId, string customerId, string returnUrl, CancellationToken cancellationToken)
    {
        var prices = await PlanPriceIdsAsync(billing.GetCurrent(tenantId), cancellationToken);
        var session = await new Stripe.Checkout.SessionService(Client).CreateAsync(new Stripe.Checkout.SessionCreateOptions
        {
            Mode = "subscription",
            Customer = customerId,
            SuccessUrl = returnUrl,
            CancelUrl = returnUrl,
            LineItems = prices.Select(p => new Stripe.Checkout.SessionLineItemOptions { Price = p.PriceId, Quantity = p.Metered ? null : 1 }).ToList(),
            Metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId },
        }, cancellationToken: cancellationToken);
        return session.Url;
    }

    /// <summary>Creates or updates the tenant's subscription so its items are the prices of its plan's current version.</summary>
    public async Task SyncSubscriptionAsync(string tenantId, CancellationToken cancellationToken)
    {
        var settings = billing.GetCurrent(tenantId);
        if (settings.StripeCustomerId is null)
        {
            throw new InvalidOperationException("the tenant has no Stripe customer yet; the subscription follows once it has");
        }
        var prices = await PlanPriceIdsAsync(settings, cancellationToken);
        var subscriptions = new SubscriptionService(Client);
        if (settings.StripeSubscriptionId is { } existing)
        {
            var current = await subscriptions.GetAsync(existing, cancellationToken: cancellationToken);
            if (current.Items.Data.Select(i => i.Price.Id).ToHashSet().SetEquals(prices.Select(p => p.PriceId)))
            {
                // Already on these prices (a redelivered command, or a version that changed nothing Stripe prices).
                return;
            }
            // The version's prices replace the old ones from now on (the command is due when the version takes effect), without proration.
            var items = current.Items.Data.Select(i => new SubscriptionItemOptions { Id = i.Id, Deleted = true })
                .Concat(prices.Select(p => new SubscriptionItemOptions { Price = p.PriceId, Quantity = p.Metered ? null : 1 })).ToList();
            await subscriptions.UpdateAsync(existing, new SubscriptionUpdateOptions { Items = items, ProrationBehavior = "none" }, cancellationToken: cancellationToken);
            return;
        }
        var subscription = await subscriptions.CreateAsync(new SubscriptionCreateOptions
        {
            Customer = settings.StripeCustomerId,
            Items = prices.Select(p => new SubscriptionItemOptions { Price = p.PriceId, Quantity = p.Metered ? null : 1 }).ToList(),
            Metadata = new Dictionary<string, string> { ["tenant_id"] = tenantId },
        }, new RequestOptions { IdempotencyKey = $"subscribe-{tenantId}-{settings.PlanId}" }, cancellationToken);
        await billing.SetStripeIdsAsync(tenantId, null, subscription.Id, cancellationToken);
    }

    /// <summary>
    /// The Stripe prices of the tenant's plan version, found by lookup key and created when missing:
    /// a monthly base fee and a metered price per priced meter, plus one per model a token meter prices on
    /// its own (on that model's Stripe meter). Included quantities are applied by the ledger's pricing only.
    /// </summary>
    private async Task<List<(string PriceId, bool Metered)>> PlanPriceIdsAsync(TenantBilling settings, CancellationToken cancellationToken)
    {
        var plan = settings.PlanId is { } planId ? plans.FindCurrent(planId) : null;
        if (plan is null)
        {
            throw new InvalidOperationException("the tenant has no plan; a platform administrator assigns one with PUT /api/platform/v1/tenants/{id}/plan");
        }
        var version = plan.VersionFor(Pricing.MonthStart(DateTimeOffset.UtcNow));
        var priceService = new PriceService(Client);
        var result = new List<(string, bool)>();
        var wanted = new List<(string LookupKey, PriceCreateOptions Create, bool Metered)>
        {
            ($"flowgate_{plan.Id}_v{version.Version}_base", new PriceCreateOptions
            {
                Currency = plan.Currency, UnitAmountDecimal = Cents(version.Prices.BaseFeeUsd), Recurring = new PriceRecurringOptions { Interval = "month" },
                ProductData = new PriceProductDataOptions { Name = $"{plan.Name} (base fee)" },
            }, false),
        };
        foreach (var (meter, price) in version.Prices.Meters)
        {
            var models = new (string? Model, decimal UnitPriceUsd)[] { (null, price.UnitPriceUsd) }.Concat(price.ModelPricesUsd.Select(m => ((string?)m.Key, m.Value)));
            foreach (var (model, unitPrice) in models)
            {
                var meterId = await MeterIdAsync(meter, model, cancellationToken);
                wanted.Add(($"flowgate_{plan.Id}_v{version.Version}_{EventName(meter, model)["flowgate_".Length..]}", new PriceCreateOptions
                {
                    Currency = plan.Currency,
                    UnitAmountDecimal = Cents(unitPrice / PlanPrices.UnitSize(meter)),
                    Recurring = new PriceRecurringOptions { Interval = "month", UsageType = "metered", Meter = meterId },
                    ProductData = new PriceProductDataOptions { Name = model is null ? $"{plan.Name} ({meter})" : $"{plan.Name} ({meter}, {model})" },
                }, true));
            }
        }
        foreach (var (lookupKey, create, metered) in wanted)
        {
            var found = await priceService.ListAsync(new PriceListOptions { LookupKeys = [lookupKey], Limit = 1 }, cancellationToken: cancellationToken);
            if (found.Data.FirstOrDefault() is { } existing)
            {
                result.Add((existing.Id, metered));
                continue;
            }
            create.LookupKey = lookupKey;
            result.Add(((await priceService.CreateAsync(create, new RequestOptions { IdempotencyKey = lookupKey }, cancellationToken)).Id, metered));
        }
        return result;
    }

    /// <summary>Stripe summarises meter events over whole minutes, so a reconciled period ends on the next minute boundary.</summary>
    public static DateTimeOffset NextMinute(DateTimeOffset at) => new DateTimeOffset(at.Ticks - at.Ticks % TimeSpan.TicksPerMinute, TimeSpan.Zero).AddMinutes(1);

    /// <summary>Stripe's unit amounts are in cents; trailing zeros are dropped so equal prices look equal.</summary>
    private static decimal Cents(decimal usd) => usd * 100 / 1.000000000000000000000000000000000m;

    /// <summary>The reconciliation: the ledger against Stripe's meter event summaries, per customer and meter.</summary>
    public async Task<(int Differences, string Report)> ReconcileAsync(StripeUsageExport export, DateTimeOffset from, DateTimeOffset to, CancellationToken cancellationToken)
    {
        var rows = new List<object>();
        var differences = 0;
        foreach (var customer in export.LedgerTotals(from, to).GroupBy(r => (r.TenantId, r.Customer)))
        {
            var stripe = await MeterSummariesAsync(customer.Key.Customer, from, to, cancellationToken);
            foreach (var row in customer)
            {
                var counted = stripe.GetValueOrDefault(row.Meter);
                var matches = counted == row.Ledger;
                differences += matches ? 0 : 1;
                rows.Add(new
                {
                    tenantId = row.TenantId, stripeCustomerId = row.Customer, meter = row.Meter, ledger = row.Ledger, acknowledgedByStripe = row.Sent,
                    stripe = counted, difference = row.Ledger - counted, matches,
                });
            }
        }
        var report = JsonSerializer.Serialize(new { from, to, createdAt = DateTimeOffset.UtcNow, differences, rows });
        await export.SaveReconciliationAsync(from, to, differences, report, cancellationToken);
        return (differences, report);
    }
}
