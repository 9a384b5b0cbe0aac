using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Runs;

/// <summary>
/// Keeps the leases of the items executing on this node alive while they run: a third of the lease after an item began,
/// and every third after that. One timer serves every item: a timer per step execution was a finalizable object made
/// thousands of times a second under a flood, and each gen0 collection had to sweep them all (decision 027, session 10).
/// </summary>
public sealed class LeaseKeeper : IDisposable
{
    private readonly ConcurrentDictionary<Lease, byte> _running = new();
    private readonly Func<WorkItem, CancellationToken, Task<bool>> _extend;
    private readonly TimeProvider _time;
    private readonly TimeSpan _period;
    private readonly ITimer _timer;

    public LeaseKeeper(WorkQueue queue, TimeProvider time, IOptions<FlowgateOptions> options)
        : this(queue.ExtendLeaseAsync, time, TimeSpan.FromSeconds(Math.Max(1, options.Value.Runtime.LeaseSeconds / 3.0)))
    {
    }

    /// <param name="extend">Extends one item's lease; false when the item is no longer this node's.</param>
    /// <param name="period">How long after its start, or its last extension, an item's lease is extended.</param>
    public LeaseKeeper(Func<WorkItem, CancellationToken, Task<bool>> extend, TimeProvider time, TimeSpan period)
    {
        _extend = extend;
        _time = time;
        _period = period;
        var tick = period / 4;
        _timer = time.CreateTimer(_ => ExtendDue(), null, tick, tick);
    }

    /// <summary>Keeps the item's lease until the returned lease is disposed or the token is cancelled.</summary>
    public Lease Keep(WorkItem item, CancellationToken cancellationToken)
    {
        var lease = new Lease(this, item, cancellationToken, _time.GetTimestamp());
        _running.TryAdd(lease, 0);
        return lease;
    }

    private void ExtendDue()
    {
        var now = _time.GetTimestamp();
        foreach (var (lease, _) in _running)
        {
            if (!lease.Token.IsCancellationRequested && _time.GetElapsedTime(lease.Since, now) >= _period)
            {
                lease.Since = now;
                _ = _extend(lease.Item, lease.Token).ContinueWith(static _ => { }, TaskScheduler.Default);
            }
        }
    }

    public void Dispose() => _timer.Dispose();

    public sealed class Lease(LeaseKeeper keeper, WorkItem item, CancellationToken token, long since) : IDisposable
    {
        public WorkItem Item { get; } = item;

        public CancellationToken Token { get; } = token;

        /// <summary>When the item began or its lease was last extended (a <see cref="TimeProvider"/> timestamp).</summary>
        internal long Since { get; set; } = since;

        public void Dispose() => keeper._running.TryRemove(this, out _);
    }
}
