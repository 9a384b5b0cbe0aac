using System.Collections.Concurrent;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>
/// Answers of HTTP steps that asked for caching, per tenant (the tenant is part of every key, so one
/// tenant's answers are never served to another), each kept for its step's TTL. Bounded: past the
/// limit, expired entries go, and if that is not enough, everything.
/// </summary>
public sealed class HttpResponseCache(TimeProvider time)
{
    public const int MaxEntries = 50_000;

    /// <summary>Bigger answers are not cached: the cache is for many small lookups.</summary>
    public const int MaxEntryBytes = 256 * 1024;

    private readonly ConcurrentDictionary<(string Tenant, string Key), (object? Response, DateTimeOffset Expires)> _entries = new();

    public bool TryGet(string tenantId, string key, out object? response)
    {
        if (_entries.TryGetValue((tenantId, key), out var entry) && entry.Expires > time.GetUtcNow())
        {
            response = entry.Response;
            return true;
        }
        response = null;
        return false;
    }

    public void Set(string tenantId, string key, object? response, TimeSpan ttl)
    {
        var now = time.GetUtcNow();
        if (_entries.Count >= MaxEntries)
        {
            foreach (var expired in _entries.Where(e => e.Value.Expires <= now).Select(e => e.Key).ToList())
            {
                _entries.TryRemove(expired, out _);
            }
            if (_entries.Count >= MaxEntries)
            {
                _entries.Clear();
            }
        }
        _entries[(tenantId, key)] = (response, now + ttl);
    }
}
