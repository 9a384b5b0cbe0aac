using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Caching.Memory;
using Microsoft.Extensions.Options;

namespace Saas.Web.Gateway;

/// <summary>A complete, successful non-streamed answer, as the provider sent it.</summary>
public sealed record CachedAnswer(byte[] Body, string ContentType, string Provider, string Model);

/// <summary>
/// Exact-match answers per tenant (opt-in with the tenant's cacheEnabled): the key hashes the tenant id
/// with the operation and the request body, so one tenant can never be served another's answer.
/// </summary>
public sealed class ResponseCache(IOptions<GatewayOptions> options)
{
    private readonly MemoryCache _entries = new(new MemoryCacheOptions { SizeLimit = Math.Max(1, options.Value.CacheEntries) });

    public static string Key(string tenantId, string operation, string body) =>
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes($"{tenantId}\n{operation}\n{body}")));

    public CachedAnswer? Find(string key) => _entries.TryGetValue(key, out CachedAnswer? answer) ? answer : null;

    public void Save(string key, CachedAnswer answer, TimeSpan lifetime) =>
        _entries.Set(key, answer, new MemoryCacheEntryOptions { Size = 1, AbsoluteExpirationRelativeToNow = lifetime });
}
