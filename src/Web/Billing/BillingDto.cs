using Saas.Pipelines.Billing;

namespace Saas.Web.Billing;

public sealed record ChargeLineDto(string Meter, string? Model, long Quantity, decimal UnitPriceUsd, string PricedPer, decimal AmountUsd);

public sealed record ChargeDto(DateTimeOffset From, DateTimeOffset To, decimal BaseFeeUsd, decimal UsageUsd, decimal AmountUsd, IReadOnlyList<ChargeLineDto> Lines);

public sealed record PlanRefDto(string Id, string Name, string Currency, long Version);

public sealed record CapDto(decimal MonthlyUsd, IReadOnlyList<int> AlertThresholds, decimal CountedUsd, decimal UsedPercent, bool Reached);

public sealed record AlertDto(int Threshold, decimal AmountUsd, decimal CapUsd, DateTimeOffset SentAt);

/// <summary>A Stripe invoice; amounts in the invoice's currency (major units).</summary>
public sealed record InvoiceDto(
    string Id, string? Number, string? Status, string Currency, decimal Total, decimal AmountDue, decimal AmountPaid,
    DateTimeOffset Created, DateTimeOffset PeriodStart, DateTimeOffset PeriodEnd, string? HostedInvoiceUrl);

public sealed record ProjectionDto(decimal AmountUsd, decimal UsageUsd, decimal BaseFeeUsd, string Method);

public sealed record BillingDto(
    PlanRefDto? Plan, ChargeDto MonthToDate, ProjectionDto Projection, CapDto? Cap, IReadOnlyList<string> Contacts, IReadOnlyList<AlertDto> Alerts,
    string State, string? StateReason, DateTimeOffset? GraceUntil, bool Suspended, string? Refusal, bool LedgerOnly, string? LedgerOnlyReason);

public static class BillingDtoMapping
{
    /// <summary>Money shown to people: whole cents would hide the price of a single step, so six decimals.</summary>
    public static decimal Round(decimal usd) => Math.Round(usd, 6, MidpointRounding.AwayFromZero);

    public static ChargeDto ToDto(this PeriodCharge charge) => new(
        charge.From, charge.To, Round(charge.BaseFeeUsd), Round(charge.UsageUsd), Round(charge.TotalUsd),
        charge.Lines.Select(l => new ChargeLineDto(l.Meter, l.Model, l.Quantity, l.UnitPriceUsd, PlanPrices.IsTokenMeter(l.Meter) ? "million tokens" : "unit", Round(l.AmountUsd))).ToList());

    public static PlanRefDto? ToRef(this Plan? plan, DateTimeOffset monthStart) =>
        plan is null ? null : new PlanRefDto(plan.Id, plan.Name, plan.Currency, plan.VersionFor(monthStart).Version);
}
