using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Web.Billing;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Usage;

/// <summary>Amounts (USD) are present when the tenant's plan prices the usage: see decision 018 for how groups share a meter's amount.</summary>
public sealed record UsageDto(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<UsageTotalDto> Items)
{
    public string? PlanId { get; init; }

    public decimal? AmountUsd { get; init; }
}

public sealed record UsageTotalDto(string Meter, string? Group, long Quantity)
{
    public decimal? AmountUsd { get; init; }
}

public static class UsageApi
{
    private const int MaxDays = 366;

    public static RouteGroupBuilder MapUsageApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/usage").WithTags("Usage");
        group.MapGet("/", Get);
        return group;
    }

    /// <summary>The tenant's metered usage from the ledger; by default the current calendar month (UTC).</summary>
    private static async Task<Results<Ok<UsageDto>, ProblemHttpResult>> Get(
        CurrentTenant tenant, UsageLedger ledger, Pricing pricing, Saas.Web.Gateway.GatewayMeter gatewayCalls, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to, string? groupBy,
        CancellationToken cancellationToken)
    {
        await gatewayCalls.WrittenAsync(cancellationToken);
        var now = time.GetUtcNow();
        var start = from ?? new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero);
        var end = to ?? start.AddMonths(1);
        if (end <= start)
        {
            return Problems.BadRequest("Invalid period", $"'to' ({end:O}) must be after 'from' ({start:O}).");
        }
        if (end - start > TimeSpan.FromDays(MaxDays))
        {
            return Problems.BadRequest("Period too long", $"Ask for at most {MaxDays} days at a time.");
        }
        if (!Enum.TryParse<UsageGrouping>(groupBy ?? "meter", ignoreCase: true, out var grouping) || int.TryParse(groupBy, out _))
        {
            return Problems.BadRequest("Unknown groupBy", "groupBy must be one of meter, pipeline, day, model.");
        }
        var totals = ledger.Totals(tenant.Id, start, end, grouping);
        var items = totals.Select(t => new UsageTotalDto(t.Meter, t.Group, t.Quantity)).ToList();
        if (pricing.PlanOf(tenant.Id) is not { } plan)
        {
            return TypedResults.Ok(new UsageDto(start, end, grouping.ToString().ToLowerInvariant(), items));
        }
        var charge = pricing.Price(plan, tenant.Id, start, end);
        return TypedResults.Ok(new UsageDto(start, end, grouping.ToString().ToLowerInvariant(), items.Select(i => i with { AmountUsd = AmountOf(i, grouping, charge.Lines) }).ToList())
        {
            PlanId = plan.Id,
            AmountUsd = BillingDtoMapping.Round(charge.UsageUsd),
        });
    }

    /// <summary>Meter and model groups are priced exactly; a pipeline's or a day's share of a meter's amount is in proportion to its quantity.</summary>
    internal static decimal AmountOf(UsageTotalDto item, UsageGrouping grouping, IReadOnlyList<ChargeLine> lines)
    {
        var meter = lines.Where(l => l.Meter == item.Meter).ToList();
        var amount = grouping switch
        {
            UsageGrouping.Meter => meter.Sum(l => l.AmountUsd),
            UsageGrouping.Model => meter.Where(l => l.Model == item.Group).Sum(l => l.AmountUsd),
            _ => meter.Sum(l => l.Quantity) is var total and > 0 ? meter.Sum(l => l.AmountUsd) * item.Quantity / total : 0,
        };
        return BillingDtoMapping.Round(amount);
    }
}
