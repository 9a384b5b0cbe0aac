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

    /// <summary>
    /// Reserves <paramref name="count"/> tokens when the bucket holds them, or will within <paramref name="maxWait"/>: the
    /// bucket then goes into debt, and the caller waits <paramref name="wait"/> before it uses them. Callers that reserve
    /// together are spaced at the rate instead of passing at once (shaping rather than policing). With a
    /// <paramref name="maxWait"/> of zero it takes the tokens only when the bucket holds them.
    /// </summary>
    /// <param name="now">A timestamp of the clock whose ticks per second are <paramref name="frequency"/>.</param>
    /// <param name="retryAfter">For a refusal, how much later the same reservation would be within <paramref name="maxWait"/>.</param>
    public bool TryReserve(double count, long now, long frequency, double perSecond, double size, TimeSpan maxWait, out TimeSpan wait, out TimeSpan retryAfter)
    {
        lock (_gate)
        {
            Refill(now, frequency, perSecond, size);
            wait = _tokens >= count ? TimeSpan.Zero : TimeSpan.FromSeconds((count - _tokens) / perSecond);
            if (wait > maxWait)
            {
                retryAfter = wait - maxWait;
                wait = TimeSpan.Zero;
                return false;
            }
            _tokens -= count;
            retryAfter = TimeSpan.Zero;
            return true;
        }
    }

    /// <summary>Gives back tokens reserved for work that was then not done (its caller left while it waited).</summary>
    public void Return(double count, double size)
    {
        lock (_gate)
        {
            _tokens = Math.Min(size, _tokens + count);
        }
    }

    private void Refill(long now, long frequency, double perSecond, double size)
    {
        // Callers read the clock before the lock: a timestamp older than the last one refills nothing.
        if (now > _at)
        {
            _tokens = Math.Min(size, _tokens + (now - _at) * perSecond / frequency);
            _at = now;
        }
        _tokens = Math.Min(size, _tokens);
    }
}
