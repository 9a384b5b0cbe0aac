using Saas.Pipelines.Limits;

namespace Saas.Pipelines.Runs;

/// <summary>Work leased to this node; <see cref="Run"/> is the run as just created, when known, to spare a read.</summary>
public sealed record DispatchedWork(WorkItem Item, RunRow? Run)
{
    /// <summary>
    /// Taken while other tenants have work here, from a tenant with more waiting than it may run: it should run at low
    /// priority (<see cref="TenantLimits.BacklogAtLowPriority"/>).
    /// </summary>
    public bool Backlog { get; init; }
}

/// <summary>
/// Hands work leased to this node to its workers without a round trip through the database. Each tenant
/// waits in its own line and workers take from the lines in turn, skipping a tenant that has its
/// <see cref="TenantLimitValues.MaxConcurrentSteps"/> executing already: one tenant's backlog neither
/// delays another's new work nor takes every worker (decision 024). While more than one tenant has had work
/// here within <see cref="ContentionWindow"/>, each runs at most <see cref="TenantLimits.ContendedConcurrentSteps"/>
/// at once, and its work is marked <see cref="DispatchedWork.Backlog"/>, so a backlog leaves the node's cores to the
/// others' work (decision 027). Work held back by that cap alone is offered again once the window has passed, so a
/// tenant whose steps run long gets back to its own cap when the others go quiet, not when one of its steps ends.
/// </summary>
public sealed class WorkDispatcher(TenantLimits limits, TimeProvider time) : IDisposable
{
    private readonly object _lock = new();
    private readonly Dictionary<string, TenantLine> _lines = new(StringComparer.Ordinal);

    /// <summary>Tenants with work waiting, in the order they are served.</summary>
    private readonly List<TenantLine> _turns = [];
    private readonly SemaphoreSlim _runnable = new(0);

    /// <summary>When each tenant last had work dispatched here.</summary>
    private readonly Dictionary<string, long> _lastWork = new(StringComparer.Ordinal);

    private static readonly TimeSpan ContentionWindow = TimeSpan.FromSeconds(1);
    private int _next;
    private int _pending;

    /// <summary>Offers work held back by the contended cap again once contention may have ended; armed while some is.</summary>
    private ITimer? _recheck;
    private bool _recheckArmed;
    private int _heldBack;

    /// <summary>Items waiting to be taken, across tenants.</summary>
    public int Pending => Volatile.Read(ref _pending);

    /// <summary>Items of one tenant waiting to be taken.</summary>
    public int PendingFor(string tenantId)
    {
        lock (_lock)
        {
            return _lines.TryGetValue(tenantId, out var line) ? line.Waiting.Count : 0;
        }
    }

    /// <summary>
    /// How many more items of the tenant this node should hold in memory: a few rounds of its concurrency,
    /// so its backlog stays in the database (fairly leased, counted as pending) rather than here.
    /// </summary>
    public int RoomFor(string tenantId) => Math.Max(0, limits.For(tenantId).MaxConcurrentSteps * 4 - PendingFor(tenantId));

    public void Dispatch(WorkItem item, RunRow? run = null)
    {
        var cap = limits.For(item.TenantId).MaxConcurrentSteps;
        bool runnable;
        lock (_lock)
        {
            if (!_lines.TryGetValue(item.TenantId, out var line))
            {
                _lines[item.TenantId] = line = new TenantLine(item.TenantId);
            }
            line.Cap = cap;
            _lastWork[item.TenantId] = time.GetTimestamp();
            if (line.Waiting.Count == 0)
            {
                _turns.Add(line);
            }
            line.Waiting.Enqueue(new Entry(new DispatchedWork(item, run), time.GetTimestamp()));
            _pending++;
            runnable = line.Running + line.Waiting.Count <= cap;
        }
        if (runnable)
        {
            _runnable.Release();
        }
    }

    public void Dispatch(IEnumerable<WorkItem> items)
    {
        foreach (var item in items)
        {
            Dispatch(item);
        }
    }

    /// <summary>
    /// Waits for the next item a tenant under its cap may execute, taking tenants in turn. The caller
    /// executes it and then calls <see cref="Finished"/>.
    /// </summary>
    public async ValueTask<DispatchedWork> TakeAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            lock (_lock)
            {
                if (TakeNext(capped: true) is { } work)
                {
                    return work;
                }
            }
            await _runnable.WaitAsync(cancellationToken);
        }
    }

    /// <summary>The item taken by <see cref="TakeAsync"/> is done: its tenant may start another.</summary>
    public void Finished(string tenantId)
    {
        bool waiting;
        lock (_lock)
        {
            var line = _lines[tenantId];
            line.Running--;
            waiting = line.Waiting.Count > 0;
            if (line.Running == 0 && !waiting)
            {
                _lines.Remove(tenantId);
            }
        }
        if (waiting)
        {
            _runnable.Release();
        }
    }

    /// <summary>Takes the next item in turn regardless of caps (work forwarded elsewhere, or executed by hand in tests).</summary>
    public bool TryTake(out DispatchedWork work)
    {
        lock (_lock)
        {
            work = TakeNext(capped: false)!;
            return work is not null;
        }
    }

    /// <summary>Waits until some item is waiting (for <see cref="TryTake"/>).</summary>
    public async Task WaitForWorkAsync(CancellationToken cancellationToken)
    {
        while (Pending == 0)
        {
            await _runnable.WaitAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Items that have waited here longer than <paramref name="age"/> since they were leased (or since the
    /// last call returned them): their leases must be renewed before they run out.
    /// </summary>
    public IReadOnlyList<WorkItem> WaitingLongerThan(TimeSpan age)
    {
        var now = time.GetTimestamp();
        var stale = new List<WorkItem>();
        lock (_lock)
        {
            foreach (var line in _turns)
            {
                foreach (var entry in line.Waiting)
                {
                    if (time.GetElapsedTime(entry.LeasedAt, now) > age)
                    {
                        entry.LeasedAt = now;
                        stale.Add(entry.Work.Item);
                    }
                }
            }
        }
        return stale;
    }

    /// <summary>Whether more than one tenant has work here or had some lately; forgets tenants gone quiet.</summary>
    private bool Contended()
    {
        if (_lastWork.Count < 2)
        {
            return false;
        }
        var now = time.GetTimestamp();
        var recent = 0;
        foreach (var (tenantId, at) in _lastWork)
        {
            if (_lines.ContainsKey(tenantId) || time.GetElapsedTime(at, now) < ContentionWindow)
            {
                recent++;
            }
            else
            {
                _lastWork.Remove(tenantId);
            }
        }
        return recent > 1;
    }

    private DispatchedWork? TakeNext(bool capped)
    {
        var contended = capped && Contended();
        var contendedCap = contended ? limits.ContendedConcurrentSteps : int.MaxValue;
        var heldBack = 0;
        for (var i = 0; i < _turns.Count; i++)
        {
            var index = (_next + i) % _turns.Count;
            var line = _turns[index];
            if (capped && line.Running >= Math.Min(line.Cap, contendedCap))
            {
                heldBack += Math.Max(0, Math.Min(line.Waiting.Count, line.Cap - line.Running));
                continue;
            }
            var entry = line.Waiting.Dequeue();
            _pending--;
            if (capped)
            {
                line.Running++;
            }
            if (line.Waiting.Count == 0)
            {
                _turns.RemoveAt(index);
                if (line.Running == 0)
                {
                    _lines.Remove(line.TenantId);
                }
                _next = _turns.Count == 0 ? 0 : index % _turns.Count;
            }
            else
            {
                _next = (index + 1) % _turns.Count;
            }
            return contended && line.Waiting.Count > 0 ? entry.Work with { Backlog = true } : entry.Work;
        }
        if (heldBack > 0)
        {
            RecheckAfterContentionWindow(heldBack);
        }
        return null;
    }

    private void RecheckAfterContentionWindow(int heldBack)
    {
        _heldBack = Math.Max(_heldBack, heldBack);
        if (_recheckArmed)
        {
            return;
        }
        _recheckArmed = true;
        _recheck ??= time.CreateTimer(_ => OfferHeldBackWork(), null, Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);
        _recheck.Change(ContentionWindow, Timeout.InfiniteTimeSpan);
    }

    private void OfferHeldBackWork()
    {
        int heldBack;
        lock (_lock)
        {
            _recheckArmed = false;
            heldBack = _heldBack;
            _heldBack = 0;
        }
        _runnable.Release(heldBack);
    }

    public void Dispose() => _recheck?.Dispose();

    private sealed class TenantLine(string tenantId)
    {
        public string TenantId { get; } = tenantId;

        public Queue<Entry> Waiting { get; } = new();

        public int Running;

        public int Cap = 1;
    }

    private sealed class Entry(DispatchedWork work, long leasedAt)
    {
        public DispatchedWork Work { get; } = work;

        public long LeasedAt = leasedAt;
    }
}
