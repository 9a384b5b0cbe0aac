using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Network;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Tenancy;
using Saas.Pipelines.Triggers;

namespace Saas.Pipelines;

public static class PipelinesServiceCollectionExtensions
{
    /// <summary>The engine on the embedded defaults: SQLite, a blob folder and the SQL work queue.</summary>
    public static IServiceCollection AddPipelines(this IServiceCollection services)
    {
        services.AddOptions<FlowgateOptions>().BindConfiguration(FlowgateOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Database>();
        services.AddSingleton<IBlobStore, FolderBlobStore>();
        services.AddSingleton<SmallBlobs>();
        services.AddSingleton<TenantStore>();
        services.AddSingleton<OAuthClientStore>();
        services.AddSingleton<PipelineStore>();
        services.AddSingleton<WorkQueue>();
        services.AddSingleton<WorkDispatcher>();
        services.AddSingleton<RunSignals>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<RunStarter>();
        services.AddSingleton<QueueMessages>();
        services.AddSingleton<Scheduler>();
        services.AddSingleton<UsageLedger>();
        services.AddSingleton<Audit.AuditLog>();
        services.AddSingleton<AiSettingsStore>();
        services.AddSingleton<TenantSecrets>();
        services.AddSingleton<PublishChecks>();
        services.AddSingleton<Steps.Enrich.HttpResponseCache>();
        services.AddSingleton<Steps.Enrich.HostRateGates>();
        services.AddSingleton<Sinks.SinkDelivery>();
        services.AddSingleton<Tables.ReferenceTables>();
        services.AddSingleton<ModelCalls>();
        services.AddSingleton<AiGatewaySettingsStore>();
        services.AddSingleton<AiRequestLog>();
        services.AddSingleton<AiBudgets>();
        services.AddSingleton<LocalEmbeddings>();
        services.AddBilling();
        services.AddNetworkGuard();
        return services;
    }
}
