using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Tenancy;

namespace Saas.Pipelines.Billing;

public static class BillingServiceCollectionExtensions
{
    /// <summary>Plans, pricing from the ledger, spending caps and the Stripe outbox (the engine's part of billing).</summary>
    public static IServiceCollection AddBilling(this IServiceCollection services)
    {
        services.AddSingleton<PlanStore>();
        services.AddSingleton<TenantBillingStore>();
        services.AddSingleton<Pricing>();
        services.AddSingleton<SpendingGuard>();
        services.AddSingleton<BillingOutbox>();
        services.AddSingleton<StripeUsageExport>();
        services.AddSingleton<PlatformKeyStore>();
        services.AddSingleton<PlatformAdminStore>();
        return services;
    }
}
