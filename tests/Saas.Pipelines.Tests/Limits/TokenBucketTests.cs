using Saas.Pipelines.Limits;

namespace Saas.Pipelines.Tests.Limits;

public sealed class TokenBucketTests
{
    private const long Frequency = 1_000;
    private const double PerSecond = 5_000;
    private const double Size = 5_000;
    private static readonly TimeSpan MaxHold = TimeSpan.FromSeconds(1);

    [Fact]
    public void Reservations_that_come_together_are_spaced_at_the_rate_and_one_beyond_the_longest_hold_is_refused_without_taking_anything()
    {
        var bucket = new TokenBucket(Size, 0);
        var holds = new List<TimeSpan>();
        for (var post = 0; post < 10; post++)
        {
            Assert.True(bucket.TryReserve(1_000, 0, Frequency, PerSecond, Size, MaxHold, out var hold, out _));
            holds.Add(hold);
        }

        // The full bucket lets five posts of 1,000 pass at once; the next ones wait their turn, 200 ms apart.
        Assert.Equal([0, 0, 0, 0, 0, 200, 400, 600, 800, 1_000], holds.Select(h => Math.Round(h.TotalMilliseconds)));
        Assert.False(bucket.TryReserve(1_000, 0, Frequency, PerSecond, Size, MaxHold, out _, out var retryAfter));
        Assert.Equal(200, Math.Round(retryAfter.TotalMilliseconds));
        // The refusal took nothing: 200 ms later the same post is held for the longest hold, not longer.
        Assert.True(bucket.TryReserve(1_000, 200, Frequency, PerSecond, Size, MaxHold, out var later, out _));
        Assert.Equal(MaxHold, later);
    }

    [Fact]
    public void Tokens_given_back_by_a_caller_that_left_shorten_the_next_hold()
    {
        var bucket = new TokenBucket(0, 0);
        Assert.True(bucket.TryReserve(1_000, 0, Frequency, PerSecond, Size, MaxHold, out var first, out _));
        Assert.Equal(TimeSpan.FromMilliseconds(200), first);

        bucket.Return(1_000, Size);

        Assert.True(bucket.TryReserve(1_000, 0, Frequency, PerSecond, Size, MaxHold, out var next, out _));
        Assert.Equal(TimeSpan.FromMilliseconds(200), next);
    }
}
