using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Network;

public static class NetworkServiceCollectionExtensions
{
    /// <summary>The outbound-call guard: <see cref="NetworkOptions"/> and the <see cref="GuardedHttpClientFactory"/>.</summary>
    public static IServiceCollection AddNetworkGuard(this IServiceCollection services)
    {
        services.AddOptions<NetworkOptions>().BindConfiguration(NetworkOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<NetworkOptions>, NetworkOptionsValidation>());
        services.TryAddSingleton<IHostResolver, DnsHostResolver>();
        services.TryAddSingleton<GuardedHttpClientFactory>();
        return services;
    }
}
