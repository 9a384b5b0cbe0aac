namespace Saas.Pipelines.Limits;

/// <summary>
/// A token bucket refilled from the elapsed time whenever it is taken from (no timers); the rate and size are passed on
/// each take, so a changed limit applies at once. Thread-safe.
/// </summary>
public sealed class TokenBucket(double tokens, long at)
{
    private readonly Lock _gate = new();
    private double _tokens = tokens;
    private long _at = at;

    /// <summary>Takes <paramref name="count"/> tokens, or none when there are fewer.</summary>
    /// <param name="now">A timestamp of the clock whose ticks per second are <paramref name="frequency"/>.</param>
    /// <param name="retryAfter">When the bucket will hold <paramref name="count"/> tokens; zero when they were taken.</param>
    public bool TryTake(double count, long now, long frequency, double perSecond, double size, out TimeSpan retryAfter)
    {
        lock (_gate)
        {
            // Callers read the clock before the lock: a timestamp older than the last one refills nothing.
            if (now > _at)
            {
                _tokens = Math.Min(size, _tokens + (now - _at) * perSecond / frequency);
                _at = now;
            }
            _tokens = Math.Min(size, _tokens);
            if (_tokens >= count)
            {
                _tokens -= count;
                retryAfter = TimeSpan.Zero;
                return true;
            }
            retryAfter = TimeSpan.FromSeconds((count - _tokens) / perSecond);
            return false;
        }
    }
}
