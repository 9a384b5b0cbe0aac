using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Azure.Storage.Sas;

namespace Saas.Pipelines.Blobs;

/// <summary>
/// Blobs in one Azure Blob Storage container, each under its key (which starts with the tenant id:
/// decision 014). Writes stream in blocks and commit the block list when the stream is disposed,
/// so the key is replaced whole, as with the folder store; reads stream in ranges.
/// </summary>
public sealed class AzureBlobStore : IBlobStore
{
    /// <summary>Block size of uploads: memory per open write stream, and 50,000 of them is the largest blob (200 GiB).</summary>
    private const int BlockBytes = 4 << 20;

    /// <summary>The longest a user delegation key (and so a link signed with one) may live.</summary>
    public static readonly TimeSpan MaxLinkLifetime = TimeSpan.FromDays(7);

    private readonly BlobServiceClient _service;
    private readonly BlobContainerClient _container;
    private readonly TimeProvider _time;
    private Task? _created;
    private readonly SemaphoreSlim _delegationKeyLock = new(1, 1);
    private UserDelegationKey? _delegationKey;

    public AzureBlobStore(BlobServiceClient service, string container, TimeProvider time)
    {
        _service = service;
        _container = service.GetBlobContainerClient(container);
        _time = time;
    }

    public async Task<Stream> OpenWriteAsync(string key, CancellationToken cancellationToken)
    {
        await CreatedAsync(cancellationToken);
        // Not BlockBlobClient.OpenWriteAsync: with overwrite it first replaces the blob with an empty one,
        // so a reader could see an empty output while a re-executed step writes it again.
        return new BlockUploadStream(_container.GetBlockBlobClient(Checked(key)), BlockBytes);
    }

    public async Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken)
    {
        try
        {
            return await _container.GetBlobClient(Checked(key)).OpenReadAsync(new BlobOpenReadOptions(allowModifications: false), cancellationToken);
        }
        catch (RequestFailedException error) when (error.Status == 404)
        {
            throw new FileNotFoundException($"blob '{key}' does not exist", key, error);
        }
    }

    public async Task DeleteAsync(string key, CancellationToken cancellationToken) =>
        await _container.GetBlobClient(Checked(key)).DeleteIfExistsAsync(DeleteSnapshotsOption.IncludeSnapshots, cancellationToken: cancellationToken);

    /// <summary>A read-only SAS for this one blob: signed with the account key when the client has it, else with a user delegation key (managed identity).</summary>
    public async Task<DownloadLink> CreateDownloadLinkAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken)
    {
        if (lifetime <= TimeSpan.Zero || lifetime > MaxLinkLifetime)
        {
            throw new ArgumentOutOfRangeException(nameof(lifetime), lifetime, $"a download link lives between 1 s and {MaxLinkLifetime.TotalDays} days");
        }
        var blob = _container.GetBlobClient(Checked(key));
        var expiresAt = _time.GetUtcNow() + lifetime;
        var sas = new BlobSasBuilder(BlobSasPermissions.Read, expiresAt)
        {
            BlobContainerName = _container.Name,
            BlobName = blob.Name,
            Resource = "b",
            // Tolerates clock skew between this host and the storage service.
            StartsOn = _time.GetUtcNow().AddMinutes(-5),
        };
        if (blob.CanGenerateSasUri)
        {
            return new DownloadLink(blob.GenerateSasUri(sas), expiresAt, null);
        }
        var delegationKey = await DelegationKeyAsync(expiresAt, cancellationToken);
        var uri = new BlobUriBuilder(blob.Uri) { Sas = sas.ToSasQueryParameters(delegationKey, _service.AccountName) }.ToUri();
        return new DownloadLink(uri, expiresAt, null);
    }

    /// <summary>Creates the container once; a failed attempt (storage unreachable) is tried again next time.</summary>
    private Task CreatedAsync(CancellationToken cancellationToken)
    {
        var created = _created;
        if (created is null || created.IsFaulted || created.IsCanceled)
        {
            _created = created = _container.CreateIfNotExistsAsync(PublicAccessType.None);
        }
        return created.WaitAsync(cancellationToken);
    }

    /// <summary>One user delegation key serves many links; a new one is asked for when a link would outlive it.</summary>
    private async Task<UserDelegationKey> DelegationKeyAsync(DateTimeOffset until, CancellationToken cancellationToken)
    {
        await _delegationKeyLock.WaitAsync(cancellationToken);
        try
        {
            if (_delegationKey is null || _delegationKey.SignedExpiresOn < until)
            {
                var now = _time.GetUtcNow();
                _delegationKey = (await _service.GetUserDelegationKeyAsync(now.AddMinutes(-5), now + MaxLinkLifetime, cancellationToken)).Value;
            }
            return _delegationKey;
        }
        finally
        {
            _delegationKeyLock.Release();
        }
    }

    private static string Checked(string key) =>
        key.Contains("..", StringComparison.Ordinal) || key.StartsWith('/') || key.Length == 0
            ? throw new ArgumentException($"blob key '{key}' is not a relative path", nameof(key))
            : key;
}
