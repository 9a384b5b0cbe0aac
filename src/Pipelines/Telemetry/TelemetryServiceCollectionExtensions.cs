using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Saas.Pipelines.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// The engine's traces and metrics, exported over OTLP when <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set
    /// and to Azure Monitor when <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set. With neither, nothing
    /// listens, so the hot path creates no spans at all.
    /// </summary>
    /// <param name="azureMonitor">
    /// The host's <c>UseAzureMonitor()</c> (its package needs ASP.NET Core, which the engine does not reference);
    /// it brings the HTTP client and server instrumentation itself.
    /// </param>
    /// <param name="instrumentHost">The host's own instrumentation when Azure Monitor is not used (ASP.NET Core).</param>
    public static IServiceCollection AddFlowgateTelemetry(this IServiceCollection services, IConfiguration configuration,
        Action<OpenTelemetryBuilder> azureMonitor, Action<OpenTelemetryBuilder>? instrumentHost = null)
    {
        var otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        var toAzureMonitor = !string.IsNullOrEmpty(configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
        if (!otlp && !toAzureMonitor)
        {
            return services;
        }
        var builder = services.AddOpenTelemetry()
            .WithTracing(tracing =>
            {
                tracing.AddSource(FlowgateTelemetry.Name, GenAiTelemetry.Name);
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FlowgateTelemetry.Name, GenAiTelemetry.Name);
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
        if (toAzureMonitor)
        {
            azureMonitor(builder);
        }
        else
        {
            builder.WithTracing(tracing => tracing.AddHttpClientInstrumentation()).WithMetrics(metrics => metrics.AddHttpClientInstrumentation());
            instrumentHost?.Invoke(builder);
        }
        return services;
    }
}
