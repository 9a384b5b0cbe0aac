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
        services.AddAuthentication(ApiKeyAuthentication.SchemeName)
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
