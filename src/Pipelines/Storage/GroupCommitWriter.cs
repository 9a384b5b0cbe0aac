using System.Data.Common;
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Threading.Channels;
using Microsoft.Data.Sqlite;
using Saas.Pipelines.Telemetry;

namespace Saas.Pipelines.Storage;

/// <summary>
/// SQLite allows one writer at a time, and a commit's page writes (PostgreSQL: its WAL flush) dominate a small transaction. So
/// one loop runs pending units of work together in a single transaction; a unit that throws fails alone (see
/// <see cref="Rerun"/>). Callers are released only after the commit, so "awaited" means "durable".
/// <para>
/// The writer is shared by every tenant, so it must not become the place where a flooding tenant's writes delay
/// everyone else's (decision 027). Units say whose they are; each tenant waits in its own line and a batch takes
/// the lines in turn, one unit each, so a unit never waits behind more than one unit of each other tenant. A batch
/// stops taking units once it has run for its budget (a millisecond, or a commit's duration if longer): a large backlog becomes several short batches,
/// and a unit that arrives meanwhile joins the open batch in its tenant's turn instead of waiting for a long commit. A
/// light tenant's unit ends the batch it joins (<see cref="CommitsAtOnce"/>).
/// </para>
/// <para>
/// When the hook run between batches says the WAL's checkpoint has fallen behind, heavy owners (<see cref="Heavy"/>)
/// wait, at most <see cref="MaxYield"/>, while the others' units go on. The checkpoint then catches up on a trickle and,
/// while several tenants write, finishes in the background, so the WAL starts over without the writer ever stopping
/// for it (<see cref="HeavyOwnersMayWait"/>).
/// </para>
/// </summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;

    /// <summary>
    /// A batch takes units for at least this long, and for as long as a commit lasts (<see cref="_commitTime"/>): the
    /// commit then costs at most half the writer's time, and a unit arriving during a batch waits little more than a
    /// commit. SQLite commits in well under a millisecond; PostgreSQL's commit waits for its WAL flush, often longer.
    /// </summary>
    private static readonly TimeSpan MinBatchBudget = TimeSpan.FromMilliseconds(1);

    /// <summary>Recent commits' duration (a moving average), the batch budget's other half.</summary>
    private TimeSpan _commitTime = TimeSpan.Zero;

    private readonly Channel<IUnit> _pending = Channel.CreateUnbounded<IUnit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<DbConnection> _open;
    private readonly Func<DbConnection, bool, bool> _betweenBatches;

    /// <summary>How long heavy owners wait for a lagging checkpoint at most, so they are slowed, never stopped.</summary>
    private static readonly TimeSpan MaxYield = TimeSpan.FromMilliseconds(200);

    /// <summary>Fewer units than this in the share window never make an owner heavy (<see cref="Heavy"/>).</summary>
    private const int MinHeavyUnits = 16;

    /// <summary>The window over which each owner's share of the units is counted.</summary>
    private static readonly TimeSpan ShareWindow = TimeSpan.FromMilliseconds(250);

    /// <summary>Units run per owner in the current <see cref="ShareWindow"/>.</summary>
    private readonly Dictionary<string, int> _recentUnits = new(StringComparer.Ordinal);

    /// <summary>All units in <see cref="_recentUnits"/>, and the most any tenant ran: kept as they change, so asking who is heavy costs nothing.</summary>
    private int _windowTotal;
    private int _windowMostByOneTenant;
    private long _windowStarted;

    /// <summary>The clock of the share window and the yield, so tests can hold it still.</summary>
    private readonly TimeProvider _clock;

    /// <summary>When heavy owners began to wait for the checkpoint; 0 while they do not.</summary>
    private long _yieldingSince;
    private readonly Task _loop;

    /// <summary>Units read from the channel, in their owner's line; only the loop touches these.</summary>
    private readonly Dictionary<string, Queue<IUnit>> _lines = new(StringComparer.Ordinal);

    /// <summary>Owners with units waiting, in the order they are served.</summary>
    private readonly List<Queue<IUnit>> _turns = [];

    /// <summary>The tests <see cref="TakeNextInTurn"/> applies per line, made once: it runs for every unit.</summary>
    private readonly Func<Queue<IUnit>, bool> _isLight, _isRunnable;
    private int _next;

    /// <param name="betweenBatches">
    /// Runs on the writer's connection after each commit, outside any transaction (counted in the batch's duration), and is
    /// told whether heavy owners would wait while others go on (<see cref="HeavyOwnersMayWait"/>); true when the
    /// checkpoint has fallen behind and heavy owners should wait for it.
    /// </param>
    public GroupCommitWriter(Func<DbConnection> open, Func<DbConnection, bool, bool> betweenBatches, TimeProvider? clock = null)
    {
        _open = open;
        _betweenBatches = betweenBatches;
        _clock = clock ?? TimeProvider.System;
        _windowStarted = _clock.GetTimestamp();
        _isLight = line => CommitsAtOnce(line.Peek().Owner);
        _isRunnable = Runnable;
        _loop = Task.Run(LoopAsync);
    }

    /// <param name="owner">Whose write this is (a tenant id), for taking owners in turn; null for the platform's own writes.</param>
    public Task<T> WriteAsync<T>(string? owner, Func<DbConnection, DbTransaction, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var unit = new Unit<T>(owner ?? "", work);
        if (!_pending.Writer.TryWrite(unit))
        {
            throw new ObjectDisposedException(nameof(GroupCommitWriter), "the database is shutting down");
        }
        return unit.Completion.Task;
    }

    private async Task LoopAsync()
    {
        var batch = new List<IUnit>(MaxBatch);
        DbConnection? connection = null;
        while (await _pending.Reader.WaitToReadAsync())
        {
            TakeArrivals();
            while (_turns.Count > 0)
            {
                if (connection is not null && !_turns.Any(Runnable))
                {
                    // Only heavy owners have units, and they wait for the checkpoint: look again in a moment, or as soon as
                    // another unit arrives.
                    await Task.WhenAny(_pending.Reader.WaitToReadAsync().AsTask(), Task.Delay(1));
                    Yield(_betweenBatches(connection, HeavyOwnersMayWait));
                    TakeArrivals();
                    continue;
                }
                batch.Clear();
                var started = Stopwatch.GetTimestamp();
                try
                {
                    connection ??= _open();
                }
                catch (Exception error)
                {
                    FailWaiting(error);
                    break;
                }
                try
                {
                    var oldest = _turns.Min(line => line.Peek().Queued);
                    RunBatch(connection, batch, started);
                    Yield(_betweenBatches(connection, HeavyOwnersMayWait));
                    FlowgateTelemetry.Committed(Stopwatch.GetElapsedTime(started), batch.Count, Stopwatch.GetElapsedTime(oldest, started));
                }
                catch (Exception error)
                {
                    connection?.Dispose();
                    connection = null;
                    foreach (var unit in batch)
                    {
                        unit.Fail(error);
                    }
                }
                TakeArrivals();
            }
        }
        connection?.Dispose();
    }

    /// <summary>
    /// Takes units in turn and runs each in one transaction until the budget is spent, then commits. If a unit
    /// throws, the transaction is rolled back, that unit alone fails and the others run again (<see cref="Rerun"/>).
    /// </summary>
    private void RunBatch(DbConnection connection, List<IUnit> batch, long started)
    {
        using (var transaction = BatchTransaction.Begin(connection))
        {
            while (batch.Count < MaxBatch && TakeNextInTurn() is { } unit)
            {
                batch.Add(unit);
                try
                {
                    unit.Run(connection, transaction.Transaction);
                }
                catch (Exception error)
                {
                    transaction.Rollback();
                    unit.Fail(error);
                    batch.RemoveAt(batch.Count - 1);
                    Rerun(connection, batch);
                    return;
                }
                if (Stopwatch.GetElapsedTime(started) >= (_commitTime > MinBatchBudget ? _commitTime : MinBatchBudget) || CommitsAtOnce(unit.Owner))
                {
                    break;
                }
                TakeArrivals();
            }
            var committing = Stopwatch.GetTimestamp();
            transaction.Commit();
            _commitTime = (_commitTime * 4 + Stopwatch.GetElapsedTime(committing)) / 5;
        }
        foreach (var unit in batch)
        {
            unit.Complete();
        }
    }

    /// <summary>
    /// Runs the units of a rolled-back batch again in a new transaction, dropping any that throws: units only
    /// touch the database, so running one twice is harmless, and failures are rare enough not to pay a
    /// savepoint per unit.
    /// </summary>
    private static void Rerun(DbConnection connection, List<IUnit> batch)
    {
        var pending = batch;
        while (pending.Count > 0)
        {
            using var transaction = BatchTransaction.Begin(connection);
            var failed = -1;
            Exception? error = null;
            for (var i = 0; i < pending.Count && failed < 0; i++)
            {
                try
                {
                    pending[i].Run(connection, transaction.Transaction);
                }
                catch (Exception exception)
                {
                    (failed, error) = (i, exception);
                }
            }
            if (failed < 0)
            {
                transaction.Commit();
                foreach (var unit in pending)
                {
                    unit.Complete();
                }
                return;
            }
            transaction.Rollback();
            pending[failed].Fail(error!);
            pending = [.. pending[..failed], .. pending[(failed + 1)..]];
        }
    }

    /// <summary>
    /// A batch's transaction. On SQLite it is begun and ended with statements on the writer's connection, and units get no
    /// transaction object (null, which every command accepts on a connection without a <see cref="SqliteTransaction"/>):
    /// each <see cref="SqliteTransaction"/> left a finalizable SQLitePCL hook handle behind (it unsets its rollback hook with
    /// a new handle that is never disposed), ~2,000 a second under a flood, for every gen0 collection to promote and the
    /// finalizer thread to run (decision 027, session 10).
    /// </summary>
    private sealed class BatchTransaction : IDisposable
    {
        private readonly DbConnection _connection;
        private readonly DbTransaction? _transaction;
        private bool _open = true;

        private BatchTransaction(DbConnection connection, DbTransaction? transaction) => (_connection, _transaction) = (connection, transaction);

        public static BatchTransaction Begin(DbConnection connection)
        {
            if (connection is not SqliteConnection)
            {
                return new BatchTransaction(connection, connection.BeginTransaction());
            }
            connection.Prepared("BEGIN IMMEDIATE", null).ExecuteNonQuery();
            return new BatchTransaction(connection, null);
        }

        /// <summary>What units pass to their commands: null on SQLite, see above.</summary>
        public DbTransaction Transaction => _transaction!;

        public void Commit()
        {
            if (_transaction is null)
            {
                _connection.Prepared("COMMIT", null).ExecuteNonQuery();
            }
            else
            {
                _transaction.Commit();
            }
            _open = false;
        }

        public void Rollback()
        {
            if (_transaction is null)
            {
                _connection.Prepared("ROLLBACK", null).ExecuteNonQuery();
            }
            else
            {
                _transaction.Rollback();
            }
            _open = false;
        }

        /// <summary>Rolls back a transaction neither committed nor rolled back (a commit that threw leaves it open).</summary>
        public void Dispose()
        {
            if (_transaction is not null)
            {
                _transaction.Dispose();
            }
            else if (_open && _connection.State == System.Data.ConnectionState.Open)
            {
                _open = false;
                try
                {
                    _connection.Prepared("ROLLBACK", null).ExecuteNonQuery();
                }
                catch (SqliteException)
                {
                    // No transaction was left open after all.
                }
            }
        }
    }

    /// <summary>Moves the units that arrived into their owners' lines.</summary>
    private void TakeArrivals()
    {
        while (_pending.Reader.TryRead(out var unit))
        {
            if (!_lines.TryGetValue(unit.Owner, out var line))
            {
                _lines[unit.Owner] = line = new Queue<IUnit>();
            }
            if (line.Count == 0)
            {
                _turns.Add(line);
            }
            line.Enqueue(unit);
        }
    }

    private void FailWaiting(Exception error)
    {
        _yieldingSince = 0;
        while (TakeNextInTurn() is { } unit)
        {
            unit.Fail(error);
        }
    }

    private void Yield(bool checkpointBehind)
    {
        var now = _clock.GetTimestamp();
        if (!checkpointBehind)
        {
            _yieldingSince = 0;
        }
        else if (_yieldingSince == 0)
        {
            _yieldingSince = now;
        }
        // While heavy owners wait, the others run more than their share: the shares stay as they were when the wait began,
        // or the others would become the heavy ones and wait too.
        if (_yieldingSince == 0 && _clock.GetElapsedTime(_windowStarted, now) > ShareWindow)
        {
            _recentUnits.Clear();
            _windowTotal = 0;
            _windowMostByOneTenant = 0;
            _windowStarted = now;
        }
    }

    /// <summary>
    /// Whether, were the hook to say the checkpoint is behind, heavy owners would wait while others go on: another tenant
    /// writes besides a heavy one (the platform's own writes alone are too few to be worth a tenant's wait), and the
    /// current wait (if any) is shorter than <see cref="MaxYield"/>.
    /// </summary>
    private bool HeavyOwnersMayWait =>
        _recentUnits.Count - (_recentUnits.ContainsKey("") ? 1 : 0) >= 2
        && AnyHeavy()
        && (_yieldingSince == 0 || _clock.GetElapsedTime(_yieldingSince) <= MaxYield);

    /// <summary>Whether some owner is <see cref="Heavy"/>: if any is, the one that ran the most is.</summary>
    private bool AnyHeavy() => HeavyShare(_windowMostByOneTenant);

    /// <summary>
    /// An owner ran more than an equal share of the recent units, and at least <see cref="MinHeavyUnits"/> of them: a
    /// window just begun says nothing yet, and a light tenant with two units against one must not be taken for the flood.
    /// Units of no one tenant are never heavy.
    /// </summary>
    private bool Heavy(string owner) => owner.Length > 0 && _recentUnits.TryGetValue(owner, out var mine) && HeavyShare(mine);

    private bool HeavyShare(int units) => _recentUnits.Count >= 2 && units >= MinHeavyUnits && units * _recentUnits.Count > _windowTotal;

    /// <summary>
    /// A light tenant's unit next to a heavy one's backlog is committed at once: it waits for its own commit, not for
    /// the rest of a budget spent on the backlog. The platform's own units (no tenant) keep to the budget.
    /// </summary>
    private bool CommitsAtOnce(string owner) => owner.Length > 0 && !Heavy(owner) && AnyHeavy();

    /// <summary>Whether the line's next unit may run now: always, unless heavy owners are waiting for the checkpoint and this is one.</summary>
    private bool Runnable(Queue<IUnit> line) =>
        _yieldingSince == 0 || _clock.GetElapsedTime(_yieldingSince) > MaxYield || !Heavy(line.Peek().Owner);

    /// <summary>
    /// The next owner's unit in turn; while a heavy owner writes, a light owner's unit goes first, so that it commits
    /// alone (<see cref="CommitsAtOnce"/>) rather than after one more unit of the backlog.
    /// </summary>
    private IUnit? TakeNextInTurn()
    {
        var index = _turns.Count > 1 && AnyHeavy() ? FirstInTurn(_isLight) : -1;
        if (index < 0)
        {
            index = FirstInTurn(_isRunnable);
        }
        if (index < 0)
        {
            return null;
        }
        var line = _turns[index];
        var unit = line.Dequeue();
        if (_yieldingSince == 0)
        {
            var units = ++CollectionsMarshal.GetValueRefOrAddDefault(_recentUnits, unit.Owner, out _);
            _windowTotal++;
            if (unit.Owner.Length > 0)
            {
                _windowMostByOneTenant = Math.Max(_windowMostByOneTenant, units);
            }
        }
        if (line.Count == 0)
        {
            _turns.RemoveAt(index);
            _lines.Remove(unit.Owner);
            _next = index;
        }
        else
        {
            _next = index + 1;
        }
        return unit;
    }

    /// <summary>The first line from <see cref="_next"/> on that <paramref name="matches"/>; -1 if none.</summary>
    private int FirstInTurn(Func<Queue<IUnit>, bool> matches)
    {
        for (var i = 0; i < _turns.Count; i++)
        {
            var candidate = (_next + i) % _turns.Count;
            if (matches(_turns[candidate]))
            {
                return candidate;
            }
        }
        return -1;
    }

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop;
    }

    private interface IUnit
    {
        string Owner { get; }

        long Queued { get; }

        void Run(DbConnection connection, DbTransaction transaction);

        void Complete();

        void Fail(Exception error);
    }

    private sealed class Unit<T>(string owner, Func<DbConnection, DbTransaction, T> work) : IUnit
    {
        private T _result = default!;

        public string Owner { get; } = owner;

        public long Queued { get; } = Stopwatch.GetTimestamp();

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Run(DbConnection connection, DbTransaction transaction) => _result = work(connection, transaction);

        public void Complete() => Completion.TrySetResult(_result);

        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}
