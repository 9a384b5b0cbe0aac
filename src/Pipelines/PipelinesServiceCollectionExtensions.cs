using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Saas.Pipelines.AzureStorage;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Network;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.ServiceBus;
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
        services.AddSingleton<IBlobStore>(BlobStoreFor);
        services.AddSingleton<SmallBlobs>();
        services.AddSingleton<TenantStore>();
        services.AddSingleton<OAuthClientStore>();
        services.AddSingleton<MemberStore>();
        services.AddSingleton<PipelineStore>();
        services.AddSingleton<WorkQueue>();
        services.AddSingleton<LeaseKeeper>();
        services.AddSingleton<WorkDispatcher>();
        services.AddSingleton<RunSignals>();
        services.AddSingleton<RunStore>();
        services.AddSingleton<RunExecutor>();
        services.AddSingleton<RunStarter>();
        services.AddSingleton<DraftRunner>();
        services.AddSingleton<QueueMessages>();
        services.AddSingleton<Scheduler>();
        services.AddSingleton<UsageLedger>();
        services.AddSingleton<Audit.AuditLog>();
        services.AddSingleton<Mail.IEmailSender, Mail.PickupFolderEmailSender>();
        services.AddSingleton<AiSettingsStore>();
        services.AddSingleton<TenantSecrets>();
        services.AddSingleton<PublishChecks>();
        services.AddSingleton<Steps.Enrich.HttpResponseCache>();
        services.AddSingleton<Steps.Enrich.HostRateGates>();
        services.AddSingleton<Sinks.SinkDelivery>();
        services.AddSingleton<Tables.ReferenceTables>();
        services.AddSingleton<Tables.TableChanges>();
        services.AddSingleton<ModelCalls>();
        services.AddSingleton<AiGatewaySettingsStore>();
        services.AddSingleton<AiRequestLog>();
        services.AddSingleton<AiBudgets>();
        services.AddSingleton<LocalEmbeddings>();
        services.AddSingleton<ServiceBusConnections>();
        services.AddSingleton<ServiceBusMessageHandler>();
        services.AddBilling();
        services.AddTenantLimits();
        services.AddNetworkGuard();
        return services;
    }

    /// <summary><c>Flowgate:Blobs:Provider</c>: the folder store (default) or Azure Blob Storage.</summary>
    private static IBlobStore BlobStoreFor(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<FlowgateOptions>>();
        return options.Value.Blobs.Provider switch
        {
            BlobsOptions.Folder => new FolderBlobStore(options),
            BlobsOptions.Azure => new AzureBlobStore(
                StorageConnections.Blobs(services.GetRequiredService<IConfiguration>(), "Flowgate:Blobs:Provider=azure"),
                options.Value.Blobs.Container, services.GetRequiredService<TimeProvider>()),
            var other => throw new InvalidOperationException($"Flowgate:Blobs:Provider is '{other}': use '{BlobsOptions.Folder}' (the default) or '{BlobsOptions.Azure}'"),
        };
    }
}
