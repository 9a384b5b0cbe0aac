using Saas.Pipelines;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Telemetry;
using Saas.Web.Ai;
using Saas.Web.Components.Pipelines;
using Saas.Web.Audit;
using Saas.Web.Api;
using Saas.Web.Billing;
using Saas.Web.Files;
using Saas.Web.Gateway;
using Saas.Web.Limits;
using Saas.Web.OAuth;
using Saas.Web.Pipelines;
using Saas.Web.Portal;
using Saas.Web.Platform;
using Saas.Web.Queues;
using Saas.Web.Runs;
using Saas.Web.Runtime;
using Saas.Web.Secrets;
using Saas.Web.Tables;
using Saas.Web.ServiceBus;
using Saas.Web.Tenancy;
using Saas.Web.Usage;

namespace Saas.Web;

/// <summary>The web host: tenant API, OpenAPI document and, by default, the embedded runtime.</summary>
public static class FlowgateHost
{
    /// <summary>Applies <see cref="RuntimeOptions.MinThreads"/> before anything runs on the pool.</summary>
    private static void RaiseThreadPoolMinimum(IConfiguration configuration)
    {
        var wanted = (configuration.GetSection($"{FlowgateOptions.Section}:Runtime").Get<RuntimeOptions>() ?? new()).MinThreads;
        ThreadPool.GetMinThreads(out var workers, out var completionPorts);
        if (wanted > workers)
        {
            ThreadPool.SetMinThreads(wanted, completionPorts);
        }
    }

    public static WebApplication Build(string[] args)
    {
        // The application name finds the portal's static assets manifest also when a test process hosts the app.
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ApplicationName = typeof(FlowgateHost).Assembly.GetName().Name });
        // Serves package assets (MudBlazor, blazor.web.js) from a build too, in any environment; a no-op once published.
        builder.WebHost.UseStaticWebAssets();
        RaiseThreadPoolMinimum(builder.Configuration);
        builder.Services.AddPipelines();
        builder.Services.PostConfigure<FlowgateOptions>(flowgate =>
            flowgate.DataDirectory = Path.Combine(builder.Environment.ContentRootPath, flowgate.DataDirectory));
        builder.Services.AddTenantApi();
        builder.Services.AddGatewayLimits();
        builder.Services.AddTenantApiLimits();
        var dataDirectory = Path.Combine(builder.Environment.ContentRootPath, builder.Configuration[$"{FlowgateOptions.Section}:DataDirectory"] ?? "data");
        builder.Services.AddTenantSecrets(Path.Combine(dataDirectory, "keys"));
        builder.Services.AddOAuthServer();
        builder.Services.AddBillingApi();
        builder.Services.AddEmbeddedRuntime(builder.Configuration);
        builder.Services.AddStorageQueueWork(builder.Configuration);
        builder.Services.AddHostedService<ServiceBusPump>();
        builder.Services.AddFlowgateTelemetry(builder.Configuration, otel => otel.UseAzureMonitor(),
            otel => otel.WithTracing(tracing => tracing.AddAspNetCoreInstrumentation()).WithMetrics(metrics => metrics.AddAspNetCoreInstrumentation()));
        builder.Services.AddPortal();
        builder.Services.AddPipelineBuilder();

        var app = builder.Build();
        app.UseSecurityHeaders();
        if (!app.Environment.IsDevelopment())
        {
            app.UseHsts();
        }
        app.UseExceptionHandler();
        app.UseGatewayFastPath();
        // Explicit, so that gateway calls answered by the fast path skip route matching and status pages.
        app.UseRouting();
        app.UseStatusCodePages();
        app.UsePortalStatusPages();
        app.UseAuthentication();
        app.UseOAuthClientChecks();
        app.UseAuthorization();
        app.UseAntiforgery();

        app.MapOpenApi("/openapi/{documentName}.json");
        app.MapGet("/healthz", () => Results.Ok(new { status = "ok" })).ExcludeFromDescription();
        var api = app.MapGroup("/api/v1").RequireAuthorization().RequireTenantRateLimit();
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
        api.MapApiKeysApi();
        api.MapServiceBusApi();
        api.MapBillingApi();
        api.MapLimitsApi();
        app.MapPlatformApi().MapTenantLimitsPlatformApi();
        app.MapStripeWebhookApi();
        app.MapGatewayApi();
        app.MapAuthorizeEndpoint();
        app.MapPortal();
        return app;
    }
}
