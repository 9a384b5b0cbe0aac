using Microsoft.AspNetCore.Authentication;
using Saas.Web.Platform;

namespace Saas.Web.Billing;

public static class BillingServiceCollectionExtensions
{
    /// <summary>The tenant billing API, the platform API with its keys, 402 answers, and Stripe's settings.</summary>
    public static IServiceCollection AddBillingApi(this IServiceCollection services)
    {
        services.AddOptions<StripeOptions>().BindConfiguration(StripeOptions.Section);
        services.AddOptions<BillingOptions>().BindConfiguration(BillingOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddExceptionHandler<SpendingRefusedHandler>();
        services.AddSingleton<StripeBilling>();
        services.AddSingleton<BillingChanges>();
        services.AddSingleton<PlatformChanges>();
        services.AddHostedService<StripeRelay>();
        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, PlatformKeyAuthentication>(PlatformKeyAuthentication.SchemeName, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(PlatformKeyAuthentication.Policy, policy => policy.AddAuthenticationSchemes(PlatformKeyAuthentication.SchemeName).RequireClaim(PlatformKeyAuthentication.KeyClaim));
        return services;
    }
}
