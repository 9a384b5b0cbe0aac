using System.Collections.Concurrent;
using Microsoft.Extensions.Time.Testing;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Runs;

public sealed class LeaseKeeperTests
{
    private static readonly TimeSpan Period = TimeSpan.FromSeconds(10);

    private static WorkItem Item(long id) => new(id, "tn_a", $"run{id}", WorkKinds.Step, 0, 0, 1);

    [Fact]
    public void A_running_item_is_extended_every_period_until_its_lease_is_disposed()
    {
        var time = new FakeTimeProvider();
        var extended = new ConcurrentQueue<(long Id, TimeSpan At)>();
        var started = time.GetUtcNow();
        using var keeper = new LeaseKeeper((item, _) =>
        {
            extended.Enqueue((item.Id, time.GetUtcNow() - started));
            return Task.FromResult(true);
        }, time, Period);

        var lease = keeper.Keep(Item(1), CancellationToken.None);
        time.Advance(Period * 0.75);
        Assert.Empty(extended);
        for (var i = 0; i < 12; i++)
        {
            time.Advance(Period / 4);
        }
        // Ticks come every quarter period, so each extension is due one period after the last and made at the next tick.
        Assert.Equal([(1L, Period), (1L, Period * 2), (1L, Period * 3)], extended.ToArray());

        lease.Dispose();
        time.Advance(Period * 3);
        Assert.Equal(3, extended.Count);
    }

    [Fact]
    public void Only_items_still_running_are_extended_and_a_cancelled_one_is_not()
    {
        var time = new FakeTimeProvider();
        var extended = new ConcurrentQueue<long>();
        using var keeper = new LeaseKeeper((item, _) =>
        {
            extended.Enqueue(item.Id);
            return Task.FromResult(true);
        }, time, Period);
        using var cancelled = new CancellationTokenSource();

        var done = keeper.Keep(Item(1), CancellationToken.None);
        using var running = keeper.Keep(Item(2), CancellationToken.None);
        using var timedOut = keeper.Keep(Item(3), cancelled.Token);
        done.Dispose();
        cancelled.Cancel();
        time.Advance(Period);

        Assert.Equal([2L], extended.ToArray());
    }
}
