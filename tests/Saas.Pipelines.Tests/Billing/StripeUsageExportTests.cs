using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Tenancy;

namespace Saas.Pipelines.Tests.Billing;

public sealed class StripeUsageExportTestsOnSqlite() : StripeUsageExportTests(Saas.Tests.StoreAdapter.Sqlite);

public sealed class StripeUsageExportTestsOnPostgres() : StripeUsageExportTests(Saas.Tests.StoreAdapter.Postgres);

/// <summary>Usage reaches Stripe summed per tenant, meter, model and minute, each usage event in exactly one meter event.</summary>
public abstract class StripeUsageExportTests(Saas.Tests.StoreAdapter adapter)
{
    [Fact]
    public async Task Usage_is_summed_per_tenant_meter_model_and_minute_once_and_waits_for_the_tenants_stripe_customer()
    {
        await using var engine = new Engine(adapter: adapter);
        var tenants = engine.Get<TenantStore>();
        var billing = engine.Get<TenantBillingStore>();
        var database = engine.Get<Database>();
        var export = new StripeUsageExport(database, TimeProvider.System);
        var (shop, _) = await tenants.CreateTenantAsync("shop", CancellationToken.None);
        var (other, _) = await tenants.CreateTenantAsync("other", CancellationToken.None);
        await billing.SetStripeIdsAsync(shop.Id, "cus_shop", null, CancellationToken.None);
        var minute = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 60_000 * 60_000;

        await database.WriteAsync((connection, transaction) => UsageLedger.AppendMany(connection, transaction,
        [
            .. Enumerable.Range(0, 1200).Select(i => new UsageEvent(shop.Id, Meters.StepExecutions, 1, $"step/{i}", null, null, minute + i % 60_000)),
            new UsageEvent(shop.Id, Meters.StepExecutions, 1, "step/next-minute", null, null, minute + 60_000),
            new UsageEvent(shop.Id, Meters.LlmInputTokens, 700, "call/1", null, null, minute + 5) { Model = "gpt-4o" },
            new UsageEvent(shop.Id, Meters.LlmInputTokens, 300, "call/2", null, null, minute + 6) { Model = "gpt-4o" },
            new UsageEvent(shop.Id, Meters.LlmInputTokens, 50, "call/3", null, null, minute + 7) { Model = "llama3" },
            new UsageEvent(other.Id, Meters.StepExecutions, 1, "step/0", null, null, minute),
        ]));

        Assert.Equal(500, await export.RecordMeterEventsAsync(500, CancellationToken.None));
        Assert.Equal(500, await export.RecordMeterEventsAsync(500, CancellationToken.None));
        Assert.Equal(204, await export.RecordMeterEventsAsync(500, CancellationToken.None));
        Assert.Equal(0, await export.RecordMeterEventsAsync(500, CancellationToken.None));

        var events = export.Unsent(100);
        Assert.All(events, e => Assert.Equal((shop.Id, "cus_shop"), (e.TenantId, e.StripeCustomerId)));
        Assert.Equal(1201, events.Where(e => e.Meter == Meters.StepExecutions).Sum(e => e.Quantity));
        Assert.Equal(1, Assert.Single(events, e => e.Meter == Meters.StepExecutions && e.OccurredAt == minute + 60_000).Quantity);
        // A pass of 500 usage events makes one meter event per minute, meter and model it holds: 1,200 step executions of
        // one minute take three passes, so three events, never one per step execution.
        Assert.Equal(4, events.Count(e => e.Meter == Meters.StepExecutions));
        Assert.Equal(1000, events.Where(e => e.Model == "gpt-4o").Sum(e => e.Quantity));
        Assert.Equal(50, Assert.Single(events, e => e.Model == "llama3").Quantity);
        Assert.Equal(events.Count, events.Select(e => e.Identifier).Distinct().Count());

        await export.MarkSentAsync(events.Take(2).ToList(), CancellationToken.None);
        Assert.Equal(events.Skip(2).Select(e => e.Identifier), export.Unsent(100).Select(e => e.Identifier));

        await billing.SetStripeIdsAsync(other.Id, "cus_other", null, CancellationToken.None);
        Assert.Equal(1, await export.RecordMeterEventsAsync(500, CancellationToken.None));
        Assert.Equal(("cus_other", 1L), export.Unsent(100).Where(e => e.TenantId == other.Id).Select(e => (e.StripeCustomerId, e.Quantity)).Single());
    }
}
