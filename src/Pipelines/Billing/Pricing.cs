using Saas.Pipelines.Metering;

namespace Saas.Pipelines.Billing;

/// <summary>What a period costs: the base fee's share of it and each (meter, model) line.</summary>
public sealed record PeriodCharge(DateTimeOffset From, DateTimeOffset To, decimal BaseFeeUsd, IReadOnlyList<ChargeLine> Lines)
{
    public decimal UsageUsd => Lines.Sum(l => l.AmountUsd);

    public decimal TotalUsd => BaseFeeUsd + UsageUsd;
}

/// <summary>The month so far, and where it is heading.</summary>
public sealed record MonthCharge(PeriodCharge ToDate, PeriodCharge Projected, DateTimeOffset MonthStart, DateTimeOffset MonthEnd);

/// <summary>
/// Prices usage from the ledger with the tenant's plan. Months are the unit (UTC calendar months):
/// included quantities count per month, and a period inside a month costs what the month's charge grew
/// by across it, so periods add up to their month. The base fee is shared by time (decision 018).
/// </summary>
public sealed class Pricing(UsageLedger ledger, PlanStore plans, TenantBillingStore billing, TimeProvider time)
{
    public Plan? PlanOf(string tenantId) => billing.Get(tenantId).PlanId is { } planId ? plans.Find(planId) : null;

    public static DateTimeOffset MonthStart(DateTimeOffset at) => new(at.Year, at.Month, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The prices of the month starting at <paramref name="monthStart"/>; free without a plan.</summary>
    public static PlanPrices PricesFor(Plan? plan, DateTimeOffset monthStart) => plan?.VersionFor(monthStart).Prices ?? PlanPrices.Free;

    public PeriodCharge Price(string tenantId, DateTimeOffset from, DateTimeOffset to) => Price(PlanOf(tenantId), tenantId, from, to);

    public PeriodCharge Price(Plan? plan, string tenantId, DateTimeOffset from, DateTimeOffset to)
    {
        var baseFee = 0m;
        var lines = new Dictionary<(string Meter, string? Model), ChargeLine>();
        for (var month = MonthStart(from); month < to; month = month.AddMonths(1))
        {
            var end = month.AddMonths(1);
            var (segmentFrom, segmentTo) = (from > month ? from : month, to < end ? to : end);
            var prices = PricesFor(plan, month);
            baseFee += prices.BaseFeeUsd * (segmentTo - segmentFrom).Ticks / (end - month).Ticks;
            var upToEnd = prices.PriceUsage(ledger.Quantities(tenantId, month, segmentTo));
            var upToStart = segmentFrom > month ? prices.PriceUsage(ledger.Quantities(tenantId, month, segmentFrom)) : [];
            foreach (var line in upToEnd)
            {
                var before = upToStart.FirstOrDefault(l => l.Meter == line.Meter && l.Model == line.Model);
                var growth = line with { Quantity = line.Quantity - (before?.Quantity ?? 0), AmountUsd = line.AmountUsd - (before?.AmountUsd ?? 0) };
                lines[(line.Meter, line.Model)] = lines.TryGetValue((line.Meter, line.Model), out var earlier)
                    ? growth with { Quantity = earlier.Quantity + growth.Quantity, AmountUsd = earlier.AmountUsd + growth.AmountUsd }
                    : growth;
            }
        }
        return new PeriodCharge(from, to, baseFee, lines.Values.Where(l => l.Quantity > 0).OrderBy(l => l.Meter, StringComparer.Ordinal).ThenBy(l => l.Model, StringComparer.Ordinal).ToList());
    }

    /// <summary>
    /// The current month to now, and a projection to its end: the quantities so far scaled linearly by
    /// the time elapsed (month length / elapsed), priced with the plan, plus the whole base fee.
    /// </summary>
    public MonthCharge CurrentMonth(string tenantId)
    {
        var now = time.GetUtcNow();
        var start = MonthStart(now);
        var end = start.AddMonths(1);
        var plan = PlanOf(tenantId);
        var toDate = Price(plan, tenantId, start, now);
        var scale = (decimal)((end - start) / (now - start > TimeSpan.FromMinutes(1) ? now - start : TimeSpan.FromMinutes(1)));
        var prices = PricesFor(plan, start);
        var projectedUsage = prices.PriceUsage(toDate.Lines.Select(l => new UsageQuantity(l.Meter, l.Model, (long)Math.Round(l.Quantity * scale))));
        return new MonthCharge(toDate, new PeriodCharge(start, end, prices.BaseFeeUsd, projectedUsage), start, end);
    }

    /// <summary>
    /// What <paramref name="runs"/> runs that each meter <paramref name="perRun"/> would add to this month's
    /// charge on the tenant's plan: priced on top of the month's usage so far, so what is left of the
    /// included quantities is used first (the builder's cost estimate).
    /// </summary>
    public decimal EstimateUsd(string tenantId, IReadOnlyList<UsageQuantity> perRun, long runs)
    {
        var now = time.GetUtcNow();
        var start = MonthStart(now);
        var prices = PricesFor(PlanOf(tenantId), start);
        var soFar = ledger.Quantities(tenantId, start, now);
        return prices.PriceUsage(soFar.Concat(perRun.Select(u => u with { Quantity = u.Quantity * runs }))).Sum(l => l.AmountUsd)
            - prices.PriceUsage(soFar).Sum(l => l.AmountUsd);
    }
}
