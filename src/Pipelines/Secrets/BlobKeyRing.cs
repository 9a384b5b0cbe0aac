using System.Xml.Linq;
using Azure;
using Azure.Storage.Blobs;
using Azure.Storage.Blobs.Models;
using Azure.Storage.Blobs.Specialized;
using Microsoft.AspNetCore.DataProtection.Repositories;

namespace Saas.Pipelines.Secrets;

/// <summary>
/// Data Protection's key ring as one XML blob that the web host and the Functions app share. Keys are added by
/// read-modify-write under the blob's ETag, so two hosts creating a key at once both keep theirs. Data Protection
/// reads the ring rarely (at start and when a key nears expiry) and caches it, so one blob is enough.
/// </summary>
public sealed class BlobKeyRing(BlobClient blob) : IXmlRepository
{
    private const int Attempts = 10;

    public IReadOnlyCollection<XElement> GetAllElements() => Read().Ring.Root!.Elements().ToList();

    public void StoreElement(XElement element, string friendlyName)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (ring, etag) = Read();
            ring.Root!.Add(element);
            var conditions = etag is { } current ? new BlobRequestConditions { IfMatch = current } : new BlobRequestConditions { IfNoneMatch = ETag.All };
            try
            {
                blob.Upload(BinaryData.FromString(ring.ToString(SaveOptions.DisableFormatting)), new BlobUploadOptions
                {
                    Conditions = conditions,
                    HttpHeaders = new BlobHttpHeaders { ContentType = "application/xml" },
                });
                return;
            }
            catch (RequestFailedException conflict) when (conflict.Status is 409 or 412 && attempt < Attempts)
            {
                // Another host wrote the ring since it was read: read it again and add to that.
            }
        }
    }

    private (XDocument Ring, ETag? ETag) Read()
    {
        try
        {
            var content = blob.DownloadContent().Value;
            return (XDocument.Parse(content.Content.ToString()), content.Details.ETag);
        }
        catch (RequestFailedException missing) when (missing.Status == 404)
        {
            if (missing.ErrorCode == BlobErrorCode.ContainerNotFound)
            {
                blob.GetParentBlobContainerClient().CreateIfNotExists();
            }
            return (new XDocument(new XElement("repository")), null);
        }
    }
}
