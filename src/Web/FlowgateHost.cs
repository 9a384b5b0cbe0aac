using Saas.Pipelines;
using Saas.Web.Ai;
using Saas.Web.Api;
using Saas.Web.Billing;
using Saas.Web.Gateway;
using Saas.Web.Pipelines;
using Saas.Web.Platform;
using Saas.Web.Queues;
using Saas.Web.Runs;
using Saas.Web.Runtime;
using Saas.Web.Tenancy;
using Saas.Web.Usage;

namespace Saas.Web;

/// <summary>The web host: tenant API, OpenAPI document and, by default, the embedded runtime.</summary>
public static class FlowgateHost
{
    public static WebApplication Build(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.Services.AddPipelines();
        builder.Services.PostConfigure<FlowgateOptions>(flowgate =>
            flowgate.DataDirectory = Path.Combine(builder.Environment.ContentRootPath, flowgate.DataDirectory));
        builder.Services.AddTenantApi();
        builder.Services.AddGatewayLimits();
        builder.Services.AddBillingApi();
        builder.Services.AddTenantSecrets(Path.Combine(builder.Environment.ContentRootPath, builder.Configuration[$"{FlowgateOptions.Section}:DataDirectory"] ?? "data", "keys"));
        builder.Services.AddEmbeddedRuntime(builder.Configuration);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/", () => Results.Redirect("/openapi/v1.json")).ExcludeFromDescription();
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        var api = app.MapGroup("/api/v1").RequireAuthorization();
        api.MapPipelinesApi();
        api.MapRunsApi();
        api.MapQueuesApi();
        api.MapUsageApi();
        api.MapAiSettingsApi();
        api.MapBillingApi();
        app.MapPlatformApi();
        app.MapStripeWebhookApi();
        app.MapGatewayApi();
        return app;
    }
}
