using Azure.Core;
using Azure.Identity;
using Azure.Storage.Blobs;
using Azure.Storage.Queues;
using Microsoft.Extensions.Configuration;

namespace Saas.Pipelines.AzureStorage;

/// <summary>
/// Turns <c>ConnectionStrings:Blobs</c> / <c>ConnectionStrings:Queues</c> into clients. A value that is an
/// endpoint (<c>https://account.blob.core.windows.net</c>) means the managed identity (or developer
/// sign-in) through <see cref="DefaultAzureCredential"/>; anything else is a storage connection string
/// (Azurite, <c>UseDevelopmentStorage=true</c>, or an account key where no identity is available).
/// </summary>
public static class StorageConnections
{
    private static readonly Lazy<TokenCredential> Credential = new(() => new DefaultAzureCredential());

    public static BlobServiceClient Blobs(IConfiguration configuration, string providerSetting) =>
        Endpoint(Required(configuration, "Blobs", providerSetting), out var uri, out var connectionString)
            ? new BlobServiceClient(uri, Credential.Value)
            : new BlobServiceClient(connectionString);

    public static QueueServiceClient Queues(IConfiguration configuration, string providerSetting)
    {
        // Base64, as the Functions queue trigger expects by default.
        var options = new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 };
        return Endpoint(Required(configuration, "Queues", providerSetting), out var uri, out var connectionString)
            ? new QueueServiceClient(uri, Credential.Value, options)
            : new QueueServiceClient(connectionString, options);
    }

    private static string Required(IConfiguration configuration, string name, string providerSetting) =>
        configuration.GetConnectionString(name) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{providerSetting} selects Azure Storage but ConnectionStrings:{name} is not set: set it to the service endpoint " +
                $"(https://<account>.{name.ToLowerInvariant().TrimEnd('s')}.core.windows.net, used with the managed identity) or to a storage connection string " +
                $"(ConnectionStrings__{name} as an environment variable)");

    private static bool Endpoint(string value, out Uri uri, out string connectionString)
    {
        connectionString = value;
        return Uri.TryCreate(value, UriKind.Absolute, out uri!) && uri.Scheme is "https" or "http";
    }
}
