using System.Threading.Channels;
using System.Data.Common;

namespace Saas.Pipelines.Storage;

/// <summary>
/// SQLite allows one writer at a time, and a commit's page writes (PostgreSQL: its WAL flush) dominate a small transaction. So
/// one loop takes every pending unit of work and runs them in a single transaction; a unit that throws
/// fails alone (see <see cref="Commit"/>).
/// Callers are released only after the commit, so "awaited" means "durable".
/// </summary>
public sealed class GroupCommitWriter : IAsyncDisposable
{
    private const int MaxBatch = 512;
    private readonly Channel<IUnit> _pending = Channel.CreateUnbounded<IUnit>(new UnboundedChannelOptions { SingleReader = true });
    private readonly Func<DbConnection> _open;
    private readonly Action<DbConnection> _betweenBatches;
    private readonly Task _loop;

    /// <param name="betweenBatches">Runs on the writer's connection after each commit, outside any transaction.</param>
    public GroupCommitWriter(Func<DbConnection> open, Action<DbConnection> betweenBatches)
    {
        _open = open;
        _betweenBatches = betweenBatches;
        _loop = Task.Run(LoopAsync);
    }

    public Task<T> WriteAsync<T>(Func<DbConnection, DbTransaction, T> work, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var unit = new Unit<T>(work);
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
            batch.Clear();
            while (batch.Count < MaxBatch && _pending.Reader.TryRead(out var unit))
            {
                batch.Add(unit);
            }
            try
            {
                connection ??= _open();
                Commit(connection, batch);
                _betweenBatches(connection);
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
        }
        connection?.Dispose();
    }

    /// <summary>
    /// Runs the batch in one transaction. If a unit throws, the transaction is rolled back, that unit
    /// alone fails, and the rest run again in a new transaction: units only touch the database, so
    /// running one twice is harmless, and failures are rare enough not to pay a savepoint per unit.
    /// </summary>
    private static void Commit(DbConnection connection, List<IUnit> batch)
    {
        var pending = batch;
        while (pending.Count > 0)
        {
            using var transaction = connection.BeginTransaction();
            var failed = -1;
            Exception? error = null;
            for (var i = 0; i < pending.Count && failed < 0; i++)
            {
                try
                {
                    pending[i].Run(connection, transaction);
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

    public async ValueTask DisposeAsync()
    {
        _pending.Writer.TryComplete();
        await _loop;
    }

    private interface IUnit
    {
        void Run(DbConnection connection, DbTransaction transaction);
        void Complete();
        void Fail(Exception error);
    }

    private sealed class Unit<T>(Func<DbConnection, DbTransaction, T> work) : IUnit
    {
        private T _result = default!;

        public TaskCompletionSource<T> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Run(DbConnection connection, DbTransaction transaction) => _result = work(connection, transaction);

        public void Complete() => Completion.TrySetResult(_result);

        public void Fail(Exception error) => Completion.TrySetException(error);
    }
}
