using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines;
using Azure.Monitor.OpenTelemetry.AspNetCore;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Telemetry;

namespace Saas.Functions;

public static class FunctionsServiceCollectionExtensions
{
    /// <summary>The engine, with work carried by the Storage queue (the only transport this host consumes).</summary>
    public static IServiceCollection AddFlowgateFunctions(this IServiceCollection services, IConfiguration configuration)
    {
        var provider = configuration[$"{FlowgateOptions.Section}:Queue:Provider"];
        if (provider != QueueOptions.AzureStorage)
        {
            throw new InvalidOperationException(
                $"Flowgate:Queue:Provider is '{provider ?? "(not set)"}', but the Functions app executes work from the Storage queue: " +
                $"set Flowgate__Queue__Provider={QueueOptions.AzureStorage} and ConnectionStrings__Queues (infra/README.md lists the settings)");
        }
        services.AddPipelines();
        services.AddProblemDetails(); // refusals carry a traceId, as the web host's do
        // The web host's key ring (Flowgate:DataProtection:KeyRingBlob in Azure), so http steps and webhook sinks can read the secrets it encrypted.
        services.AddSecretProtection(Path.Combine(configuration[$"{FlowgateOptions.Section}:DataDirectory"] ?? "data", "keys"));
        services.AddStorageQueueWork(configuration);
        services.AddFlowgateTelemetry(configuration, otel => otel.UseAzureMonitor());
        return services;
    }
}
