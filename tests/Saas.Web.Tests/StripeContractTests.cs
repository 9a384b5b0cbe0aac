using Microsoft.Extensions.Options;
using Saas.Pipelines;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Tenancy;
using Saas.Web.Billing;

namespace Saas.Web.Tests;

/// <summary>
/// Against Stripe's test mode (a test secret key in STRIPE_API_KEY; it must be an sk_test_ key): the
/// calls the relay makes are accepted by the real API, and a meter event sent twice is one event.
/// </summary>
public sealed class StripeContractTests
{
    [EnvironmentFact("STRIPE_API_KEY")]
    public async Task Stripe_test_mode_accepts_the_customer_meter_and_meter_events_the_relay_sends()
    {
        var key = Environment.GetEnvironmentVariable("STRIPE_API_KEY")!;
        Assert.StartsWith("sk_test_", key);
        var data = Path.Combine(Path.GetTempPath(), "flowgate-stripe-contract", Guid.NewGuid().ToString("N"));
        await using var host = FlowgateHost.Build(["--urls=http://127.0.0.1:0", $"--Flowgate:DataDirectory={data}", $"--Stripe:ApiKey={key}", "--Flowgate:Runtime:Embedded=false"]);
        var (tenant, _) = await host.Services.GetRequiredService<TenantStore>().CreateTenantAsync("contract", CancellationToken.None);
        var stripe = host.Services.GetRequiredService<StripeBilling>();
        var billing = host.Services.GetRequiredService<TenantBillingStore>();

        await stripe.CreateCustomerAsync(tenant.Id, CancellationToken.None);
        var customer = billing.Get(tenant.Id).StripeCustomerId;
        var usage = new PendingMeterEvent(Ids.New("mev"), tenant.Id, Meters.StepExecutions, 1, DateTimeOffset.UtcNow.ToUnixTimeMilliseconds(), customer!);
        var (sent, failure) = await stripe.SendMeterEventsAsync([usage], CancellationToken.None);
        var (again, secondFailure) = await stripe.SendMeterEventsAsync([usage], CancellationToken.None);

        Assert.StartsWith("cus_", customer);
        Assert.Null(failure);
        Assert.Null(secondFailure);
        Assert.Single(sent);
        Assert.Single(again);
        Assert.False(host.Services.GetRequiredService<IOptions<StripeOptions>>().Value.ApiBase is { Length: > 0 });
    }
}
