using Microsoft.AspNetCore.Authentication;
using Saas.Web.Tenancy;

namespace Saas.Web.Api;

public static class TenantApiServiceCollectionExtensions
{
    public static IServiceCollection AddTenantApi(this IServiceCollection services)
    {
        services.AddProblemDetails();
        services.AddOpenApi();
        services.AddScoped<CurrentTenant>();
        services.AddSingleton<ApiKeyChanges>();
        services.AddAuthentication(Saas.Web.OAuth.OAuthServer.TenantScheme)
            .AddPolicyScheme(Saas.Web.OAuth.OAuthServer.TenantScheme, "API key or OAuth access token", scheme => scheme.ForwardDefaultSelector = Saas.Web.OAuth.OAuthServer.SelectScheme)
            .AddScheme<AuthenticationSchemeOptions, ApiKeyAuthentication>(ApiKeyAuthentication.SchemeName, null);
        services.AddAuthorization();
        services.AddSingleton<Saas.Web.Gateway.GatewayForwarder>();
        services.ConfigureHttpJsonOptions(json =>
        {
            json.SerializerOptions.DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull;
        });
        return services;
    }
}
