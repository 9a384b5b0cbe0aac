using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;

namespace Saas.Pipelines.Telemetry;

public static class TelemetryServiceCollectionExtensions
{
    /// <summary>
    /// The engine's traces and metrics plus outbound HTTP calls, exported over OTLP when
    /// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set. Hosts add their own instrumentation and, when
    /// <c>APPLICATIONINSIGHTS_CONNECTION_STRING</c> is set, Azure Monitor on the returned builder.
    /// </summary>
    public static OpenTelemetryBuilder AddFlowgateTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        var otlp = !string.IsNullOrEmpty(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);
        return services.AddOpenTelemetry()
            .WithTracing(tracing =>
            {
                tracing.AddSource(FlowgateTelemetry.Name, GenAiTelemetry.Name).AddHttpClientInstrumentation();
                if (otlp)
                {
                    tracing.AddOtlpExporter();
                }
            })
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(FlowgateTelemetry.Name, GenAiTelemetry.Name).AddHttpClientInstrumentation();
                if (otlp)
                {
                    metrics.AddOtlpExporter();
                }
            });
    }

    public static bool HasAzureMonitor(IConfiguration configuration) => !string.IsNullOrEmpty(configuration["APPLICATIONINSIGHTS_CONNECTION_STRING"]);
}
