using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.DataProtection.KeyManagement;
using Microsoft.AspNetCore.DataProtection.Repositories;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Saas.Pipelines.AzureStorage;

namespace Saas.Pipelines.Secrets;

/// <summary>Tenant secrets encrypted with ASP.NET Core Data Protection, one purpose per tenant.</summary>
public sealed class DataProtectionSecrets(IDataProtectionProvider provider) : ISecretProtector
{
    public string Protect(string tenantId, string secret) => Protector(tenantId).Protect(secret);

    public string Unprotect(string tenantId, string protectedSecret) => Protector(tenantId).Unprotect(protectedSecret);

    private IDataProtector Protector(string tenantId) => provider.CreateProtector("Flowgate.TenantSecrets", tenantId);
}

public static class SecretProtectionServiceCollectionExtensions
{
    /// <summary><c>container/blob</c> in the <c>ConnectionStrings:Blobs</c> account holding the key ring that every host of an installation shares.</summary>
    public const string KeyRingBlobSetting = "Flowgate:DataProtection:KeyRingBlob";

    /// <summary>
    /// Data Protection for tenant secrets, with one key ring for every host that reads them (the web host encrypts,
    /// the Functions app decrypts for http steps and webhook signatures): the blob <see cref="KeyRingBlobSetting"/>
    /// names when set (Azure, decision 025), else files in <paramref name="keyDirectory"/> (one machine).
    /// </summary>
    public static IServiceCollection AddSecretProtection(this IServiceCollection services, string keyDirectory)
    {
        services.AddDataProtection().SetApplicationName("Flowgate");
        services.AddSingleton<IConfigureOptions<KeyManagementOptions>>(provider => new ConfigureOptions<KeyManagementOptions>(options =>
        {
            var configuration = provider.GetRequiredService<IConfiguration>();
            options.XmlRepository = configuration[KeyRingBlobSetting] is { Length: > 0 } blob
                ? new BlobKeyRing(KeyRingBlob(configuration, blob))
                : new FileSystemXmlRepository(new DirectoryInfo(keyDirectory), provider.GetRequiredService<ILoggerFactory>());
        }));
        services.AddSingleton<ISecretProtector, DataProtectionSecrets>();
        return services;
    }

    private static Azure.Storage.Blobs.BlobClient KeyRingBlob(IConfiguration configuration, string setting)
    {
        var slash = setting.IndexOf('/');
        if (slash <= 0 || slash == setting.Length - 1)
        {
            throw new InvalidOperationException($"{KeyRingBlobSetting} is '{setting}': name the key ring blob as <container>/<blob>, e.g. flowgate-keys/keyring.xml");
        }
        return StorageConnections.Blobs(configuration, KeyRingBlobSetting).GetBlobContainerClient(setting[..slash]).GetBlobClient(setting[(slash + 1)..]);
    }
}
