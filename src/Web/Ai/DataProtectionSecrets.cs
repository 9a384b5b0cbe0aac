using Microsoft.AspNetCore.DataProtection;
using Saas.Pipelines.Secrets;

namespace Saas.Web.Ai;

/// <summary>Tenant secrets encrypted with ASP.NET Core Data Protection, one purpose per tenant.</summary>
public sealed class DataProtectionSecrets(IDataProtectionProvider provider) : ISecretProtector
{
    public string Protect(string tenantId, string secret) => Protector(tenantId).Protect(secret);

    public string Unprotect(string tenantId, string protectedSecret) => Protector(tenantId).Unprotect(protectedSecret);

    private IDataProtector Protector(string tenantId) => provider.CreateProtector("Flowgate.TenantSecrets", tenantId);
}

public static class TenantSecretsServiceCollectionExtensions
{
    /// <summary>Data Protection with its key ring persisted beside the data, so secrets survive restarts.</summary>
    public static IServiceCollection AddTenantSecrets(this IServiceCollection services, string keyDirectory)
    {
        services.AddDataProtection().SetApplicationName("Flowgate").PersistKeysToFileSystem(new DirectoryInfo(keyDirectory));
        services.AddSingleton<ISecretProtector, DataProtectionSecrets>();
        services.AddSingleton<AiSettingsChanges>();
        return services;
    }
}
