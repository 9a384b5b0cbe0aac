using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Saas.Web.Components.Pipelines;

public static class PipelineBuilderServiceCollectionExtensions
{
    /// <summary>
    /// The pipeline builder's pages (/pipelines...). They call the engine's services directly (PipelineStore,
    /// RunStore, DraftRunner, from AddPipelines); the host adds Razor components and MudBlazor (AddPortal).
    /// </summary>
    public static IServiceCollection AddPipelineBuilder(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        return services;
    }
}
