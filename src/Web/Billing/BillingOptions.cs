using System.ComponentModel.DataAnnotations;

namespace Saas.Web.Billing;

/// <summary>Configuration section <c>Stripe</c>. Without <see cref="ApiKey"/> the product runs in ledger-only mode.</summary>
public sealed class StripeOptions
{
    public const string Section = "Stripe";

    public string? ApiKey { get; set; }

    /// <summary>The signing secret of the webhook endpoint (<c>whsec_…</c>).</summary>
    public string? WebhookSecret { get; set; }

    /// <summary>Only for tests that point Stripe.net at a local stand-in.</summary>
    public string? ApiBase { get; set; }

    public bool Enabled => !string.IsNullOrWhiteSpace(ApiKey);

    public const string LedgerOnlyReason =
        "Ledger-only mode: no Stripe key is configured (Stripe:ApiKey), so usage is metered and priced here but nothing is sent to Stripe and no invoices are made.";
}

/// <summary>Configuration section <c>Flowgate:Billing</c>.</summary>
public sealed class BillingOptions
{
    public const string Section = "Flowgate:Billing";

    /// <summary>Days a tenant keeps working after a failed payment before its pipelines pause and the gateway refuses calls.</summary>
    [Range(0, 90)]
    public int GraceDays { get; set; } = 7;

    /// <summary>Meter events sent per batch (each marked sent with the batch).</summary>
    [Range(1, 100)]
    public int MeterEventBatchSize { get; set; } = 100;

    /// <summary>How often the relay looks for usage and outbox work to send.</summary>
    [Range(10, 600_000)]
    public int RelayIntervalMilliseconds { get; set; } = 2_000;

    /// <summary>First wait after Stripe answers 429 or 5xx; it doubles per failure in a row, up to a minute.</summary>
    [Range(1, 600_000)]
    public int RetryBaseMilliseconds { get; set; } = 1_000;

    /// <summary>How often the ledger is reconciled with Stripe's meter event summaries (current month).</summary>
    [Range(1, 10_080)]
    public int ReconcileIntervalMinutes { get; set; } = 60;

    /// <summary>Where Stripe sends customers back after Checkout or the customer portal.</summary>
    public string ReturnUrl { get; set; } = "http://localhost:5000/";
}
