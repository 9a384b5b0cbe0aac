using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Saas.Web.Gateway;

/// <summary>
/// Tokens per minute per API key and per tenant (<c>Flowgate:Gateway:TokensPerMinutePer*</c>, off when
/// unset). A request takes its estimated input tokens before it is sent; the provider's figures settle
/// the difference afterwards, so long answers count against the next requests.
/// </summary>
public sealed class TokenLimits(IOptions<GatewayOptions> options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Window> _windows = new(StringComparer.Ordinal);

    public bool Enabled => options.Value.TokensPerMinutePerKey is not null || options.Value.TokensPerMinutePerTenant is not null;

    /// <returns>True when both windows had room; otherwise how long until they may.</returns>
    public bool TryTake(string tenantId, string keyId, long tokens, out TimeSpan retryAfter)
    {
        retryAfter = TimeSpan.Zero;
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        var limits = new List<(Window Window, long Limit)>(2);
        if (options.Value.TokensPerMinutePerKey is { } keyLimit)
        {
            limits.Add((_windows.GetOrAdd($"k/{tenantId}/{keyId}", _ => new Window()), keyLimit));
        }
        if (options.Value.TokensPerMinutePerTenant is { } tenantLimit)
        {
            limits.Add((_windows.GetOrAdd($"t/{tenantId}", _ => new Window()), tenantLimit));
        }
        foreach (var (window, limit) in limits)
        {
            if (!window.Fits(now, tokens, limit, out retryAfter))
            {
                return false;
            }
        }
        foreach (var (window, _) in limits)
        {
            window.Add(now, tokens);
        }
        return true;
    }
    /// <summary>Adds what the provider counted beyond the estimate (or gives back the excess).</summary>
    public void Settle(string tenantId, string keyId, long difference)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (_windows.TryGetValue($"k/{tenantId}/{keyId}", out var key))
        {
            key.Add(now, difference);
        }
        if (_windows.TryGetValue($"t/{tenantId}", out var tenant))
        {
            tenant.Add(now, difference);
        }
    }

    /// <summary>A sliding minute in six 10-second buckets.</summary>
    private sealed class Window
    {
        private const long BucketMs = 10_000;
        private readonly long[] _buckets = new long[6];
        private readonly long[] _starts = new long[6];

        public bool Fits(long now, long tokens, long limit, out TimeSpan retryAfter)
        {
            lock (this)
            {
                var used = Used(now);
                retryAfter = TimeSpan.FromMilliseconds(BucketMs - now % BucketMs);
                return used == 0 || used + tokens <= limit;
            }
        }

        public void Add(long now, long tokens)
        {
            lock (this)
            {
                var start = now - now % BucketMs;
                var slot = (int)(start / BucketMs % _buckets.Length);
                if (_starts[slot] != start)
                {
                    (_starts[slot], _buckets[slot]) = (start, 0);
                }
                _buckets[slot] += tokens;
            }
        }

        private long Used(long now)
        {
            long used = 0;
            for (var i = 0; i < _buckets.Length; i++)
            {
                if (now - _starts[i] < BucketMs * _buckets.Length)
                {
                    used += _buckets[i];
                }
            }
            return Math.Max(0, used);
        }
    }
}
