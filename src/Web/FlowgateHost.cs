using Saas.Pipelines;
using Saas.Web.Ai;
using Saas.Web.Audit;
using Saas.Web.Api;
using Saas.Web.Billing;
using Saas.Web.Files;
using Saas.Web.Gateway;
using Saas.Web.OAuth;
using Saas.Web.Pipelines;
using Saas.Web.Platform;
using Saas.Web.Queues;
using Saas.Web.Runs;
using Saas.Web.Runtime;
using Saas.Web.Secrets;
using Saas.Web.Tables;
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
        var dataDirectory = Path.Combine(builder.Environment.ContentRootPath, builder.Configuration[$"{FlowgateOptions.Section}:DataDirectory"] ?? "data");
        builder.Services.AddTenantSecrets(Path.Combine(dataDirectory, "keys"));
        builder.Services.AddOAuthServer(Path.Combine(dataDirectory, "oauth-keys"));
        builder.Services.AddBillingApi();
        builder.Services.AddEmbeddedRuntime(builder.Configuration);

        var app = builder.Build();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseOAuthClientChecks();
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
        api.MapSecretsApi();
        api.MapFilesApi();
        api.MapTablesApi();
        api.MapAuditApi();
        api.MapOAuthClientsApi();
        api.MapBillingApi();
        app.MapPlatformApi();
        app.MapStripeWebhookApi();
        app.MapGatewayApi();
        return app;
    }
}
