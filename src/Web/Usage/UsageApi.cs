using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Metering;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Usage;

public sealed record UsageDto(DateTimeOffset From, DateTimeOffset To, string GroupBy, IReadOnlyList<UsageTotalDto> Items);

public sealed record UsageTotalDto(string Meter, string? Group, long Quantity);

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
        CurrentTenant tenant, UsageLedger ledger, Saas.Web.Gateway.GatewayMeter gatewayCalls, TimeProvider time, DateTimeOffset? from, DateTimeOffset? to, string? groupBy, CancellationToken cancellationToken)
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
        return TypedResults.Ok(new UsageDto(start, end, grouping.ToString().ToLowerInvariant(), totals.Select(t => new UsageTotalDto(t.Meter, t.Group, t.Quantity)).ToList()));
    }
}
