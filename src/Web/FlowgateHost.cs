using Saas.Pipelines;
using Saas.Web.Ai;
using Saas.Web.Api;
using Saas.Web.Gateway;
using Saas.Web.Pipelines;
using Saas.Web.Portal;
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
        // The application name finds the portal's static assets manifest also when a test process hosts the app.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(FlowgateHost).Assembly.GetName().Name });
        // Serves package assets (MudBlazor, blazor.web.js) from a build too, in any environment; a no-op once published.
        builder.WebHost.UseStaticWebAssets();
        builder.Services.AddPipelines();
        builder.Services.PostConfigure<FlowgateOptions>(flowgate =>
            flowgate.DataDirectory = Path.Combine(builder.Environment.ContentRootPath, flowgate.DataDirectory));
        builder.Services.AddTenantApi();
        builder.Services.AddGatewayLimits();
        builder.Services.AddTenantSecrets(Path.Combine(builder.Environment.ContentRootPath, builder.Configuration[$"{FlowgateOptions.Section}:DataDirectory"] ?? "data", "keys"));
        builder.Services.AddEmbeddedRuntime(builder.Configuration);
        builder.Services.AddPortal();

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UsePortalStatusPages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseRateLimiter();
        app.UseAntiforgery();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        var api = app.MapGroup("/api/v1").RequireAuthorization();
        api.MapPipelinesApi();
        api.MapRunsApi();
        api.MapQueuesApi();
        api.MapUsageApi();
        api.MapAiSettingsApi();
        app.MapGatewayApi();
        app.MapPortal();
        return app;
    }
}
