namespace Saas.Pipelines.Blobs;

/// <summary>
/// Where run inputs and step outputs live. Keys are deterministic paths (<see cref="BlobKeys"/>);
/// a write replaces the key whole when its stream is disposed, so a re-executed step simply
/// overwrites its output. The database says which blobs belong to committed work.
/// </summary>
public interface IBlobStore
{
    Task<Stream> OpenWriteAsync(string key, CancellationToken cancellationToken);

    /// <exception cref="FileNotFoundException">No blob has that key.</exception>
    Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken);

    /// <summary>Removes the blob; a key that does not exist is not an error (deletes are retried after partial failures).</summary>
    Task DeleteAsync(string key, CancellationToken cancellationToken);

    /// <summary>A link that reads the blob without Flowgate in the way, valid for <paramref name="lifetime"/>.</summary>
    Task<DownloadLink> CreateDownloadLinkAsync(string key, TimeSpan lifetime, CancellationToken cancellationToken) =>
        Task.FromResult(DownloadLink.Unavailable($"{GetType().Name} cannot issue download links"));
}

/// <summary>Either a link that expires, or why this store cannot issue one (callers then stream the blob themselves).</summary>
public sealed record DownloadLink(Uri? Url, DateTimeOffset? ExpiresAt, string? UnavailableReason)
{
    public static DownloadLink Unavailable(string reason) => new(null, null, reason);
}

/// <summary>The blob layout; tenant first, so a tenant's data can be listed, exported or erased as one.</summary>
public static class BlobKeys
{
    public static string RunInput(string tenantId, string runId, string extension) => $"{tenantId}/runs/{runId}/input.{extension}";

    public static string ChunkInput(string tenantId, string runId, long chunk) => $"{tenantId}/runs/{runId}/chunk-{chunk:D6}.input";

    public static string StepOutput(string tenantId, string runId, long chunk, long stepIndex) => $"{tenantId}/runs/{runId}/chunk-{chunk:D6}.step-{stepIndex:D3}.jsonl";

    public static string RunOutput(string tenantId, string runId, string extension) => $"{tenantId}/runs/{runId}/output.{extension}";
}
