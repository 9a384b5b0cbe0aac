using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Saas.Web.Components.Pipelines;

public static class PipelineBuilderServiceCollectionExtensions
{
    /// <summary>
    /// The pipeline builder's pages (/pipelines...). They call the engine's services directly (PipelineStore,
    /// RunStore, DraftRunner, AuditLog, from AddPipelines); the host adds Razor components and MudBlazor.
    /// </summary>
    public static IServiceCollection AddPipelineBuilder(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<PipelinePublisher>();
        return services;
    }
}
