using Azure.Storage.Blobs;
using Azure.Storage.Queues;

namespace Saas.Tests;

/// <summary>The Azurite emulator started by tests/services/30-azurite.sh (real Azure Storage protocol, no mocks).</summary>
internal static class Azurite
{
    public static string ConnectionString =>
        Environment.GetEnvironmentVariable("AZURITE_CONNECTION_STRING") is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                "AZURITE_CONNECTION_STRING is not set: run tests/services/30-azurite.sh (./test.sh does) and `set -a; . tests/services/.env` before dotnet test");

    /// <summary>A container of its own per test, so tests never see each other's blobs.</summary>
    public static string NewContainerName() => $"test-{Guid.NewGuid():N}";

    public static BlobServiceClient Blobs() => new(ConnectionString);

    public static QueueServiceClient Queues() => new(ConnectionString, new QueueClientOptions { MessageEncoding = QueueMessageEncoding.Base64 });
}
