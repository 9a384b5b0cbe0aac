using Saas.Pipelines.Secrets;

namespace Saas.Web.Ai;

public static class TenantSecretsServiceCollectionExtensions
{
    /// <summary>Secrets encrypted with the key ring the Functions app shares (<see cref="SecretProtectionServiceCollectionExtensions.AddSecretProtection"/>), and the AI settings that hold some.</summary>
    public static IServiceCollection AddTenantSecrets(this IServiceCollection services, string keyDirectory)
    {
        services.AddSecretProtection(keyDirectory);
        services.AddSingleton<AiSettingsChanges>();
        return services;
    }
}
