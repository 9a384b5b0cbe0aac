using System.Data.Common;
using System.Diagnostics;
using Dapper;
using Microsoft.Data.Sqlite;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tests.Storage;

public sealed class GroupCommitWriterTests : IAsyncLifetime
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"flowgate-writer-{Guid.NewGuid():N}.db");
    private readonly List<string> _ran = [];
    private GroupCommitWriter _writer = null!;

    public Task InitializeAsync()
    {
        using (var connection = Open())
        {
            connection.Execute("PRAGMA journal_mode = WAL; CREATE TABLE writes (owner TEXT NOT NULL, n INTEGER NOT NULL)");
        }
        _writer = new GroupCommitWriter(Open, (_, _) => false);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _writer.DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var file in new[] { _file, _file + "-wal", _file + "-shm" })
        {
            File.Delete(file);
        }
    }

    [Fact]
    public async Task A_tenant_with_one_write_waits_behind_at_most_one_write_of_a_tenant_with_a_backlog()
    {
        var gate = new ManualResetEventSlim();
        var holding = Write("flood", 0, (_, _) => gate.Wait(TimeSpan.FromSeconds(10)));
        await WaitUntilAsync(() => Ran.Count == 1, "the writer did not start the first write");

        var backlog = Enumerable.Range(1, 50).Select(n => Write("flood", n)).ToList();
        var steady = Write("steady", 1);
        gate.Set();
        await Task.WhenAll([holding, steady, .. backlog]);

        var order = Ran;
        Assert.Equal(52, order.Count);
        Assert.InRange(order.IndexOf("steady/1"), 1, 2);
        Assert.Equal(Enumerable.Range(0, 51).Select(n => $"flood/{n}"), order.Where(name => name.StartsWith("flood/", StringComparison.Ordinal)));
        Assert.Equal(52, Count());
    }

    [Fact]
    public async Task A_light_tenants_write_next_to_a_heavy_ones_backlog_goes_first_and_is_committed_at_once_not_after_the_batch_budget()
    {
        await _writer.DisposeAsync();
        _writer = new GroupCommitWriter(Open, (_, _) => false, new StillClock());
        await Task.WhenAll([.. Enumerable.Range(1, 40).Select(n => Write("flood", n)), Write("steady", 1), Write("steady", 2)]);

        var gate = new ManualResetEventSlim();
        var holding = Write("flood", 100, (_, _) => gate.Wait(TimeSpan.FromSeconds(10)));
        await WaitUntilAsync(() => Ran.Contains("flood/100"), "the writer did not start the holding write");
        var steadySeen = new Dictionary<int, long>();
        var backlog = Enumerable.Range(101, 50).Select(n => Write("flood", n, (_, _) =>
        {
            lock (steadySeen)
            {
                steadySeen[n] = Count("owner = 'steady' AND n = 3");
            }
        })).ToList();
        var steady = Write("steady", 3);
        gate.Set();
        await Task.WhenAll([holding, steady, .. backlog]);

        // Queued last, it runs right after the write that held the writer.
        var order = Ran;
        Assert.Equal(order.IndexOf("flood/100") + 1, order.IndexOf("steady/3"));
        // Tiny units: without the early commit, the units after the steady one would run in its batch, before it commits.
        var after = order[order.IndexOf("steady/3") + 1];
        Assert.StartsWith("flood/", after);
        Assert.Equal(1, steadySeen[int.Parse(after["flood/".Length..])]);
    }

    [Fact]
    public async Task A_write_that_throws_fails_alone_and_the_others_commit()
    {
        var gate = new ManualResetEventSlim();
        var holding = Write("a", 0, (_, _) => gate.Wait(TimeSpan.FromSeconds(10)));
        await WaitUntilAsync(() => Ran.Count == 1, "the writer did not start the first write");
        var others = Enumerable.Range(1, 5).Select(n => Write(n % 2 == 0 ? "a" : "b", n)).ToList();
        var failing = Write("b", 99, (_, _) => throw new InvalidOperationException("unit 99 is broken"));
        gate.Set();

        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => failing);
        Assert.Equal("unit 99 is broken", error.Message);
        await Task.WhenAll([holding, .. others]);
        Assert.Equal(6, Count());
        Assert.Equal(0, Count("n = 99"));
    }

    [Fact]
    public async Task A_backlog_is_committed_in_several_short_batches_not_one_long_one()
    {
        var committedBefore = new List<long>();
        var writes = Enumerable.Range(0, 400).Select(n => Write("flood", n, (_, _) =>
        {
            Thread.SpinWait(20_000);
            lock (committedBefore)
            {
                committedBefore.Add(Count());
            }
        })).ToList();
        await Task.WhenAll(writes);

        Assert.Equal(400, Count());
        // A write sees, from another connection, the writes committed by earlier batches: all zeros would mean one batch.
        Assert.True(committedBefore.Distinct().Count() > 2, $"expected several batches; writes saw {string.Join(", ", committedBefore.Distinct())} committed");
    }

    [Fact]
    public async Task While_the_checkpoint_is_behind_a_heavy_writer_waits_and_a_light_one_goes_on()
    {
        var behind = false;
        await _writer.DisposeAsync();
        // A still clock: on a slow machine the share window or the longest yield could otherwise pass mid-test.
        _writer = new GroupCommitWriter(Open, (_, _) => Volatile.Read(ref behind), new StillClock());
        await Task.WhenAll([.. Enumerable.Range(1, 40).Select(n => Write("flood", n)), Write("steady", 1), Write("steady", 2)]);
        Volatile.Write(ref behind, true);
        await Write("steady", 3);

        var flood = Enumerable.Range(41, 20).Select(n => Write("flood", n)).ToList();
        await Write("steady", 4);
        Assert.Empty(Ran.Intersect(Enumerable.Range(41, 20).Select(n => $"flood/{n}")));

        Volatile.Write(ref behind, false);
        await Task.WhenAll(flood);
        Assert.Equal(64, Count());
    }

    [Fact]
    public async Task The_hook_hears_that_heavy_writers_may_wait_only_while_several_tenants_write_and_not_past_the_longest_wait()
    {
        var behind = false;
        // What each call of the hook was told, and how many writes had run by then.
        var told = new List<(bool HeavyMayWait, int Ran)>();
        var clock = new ManualClock();
        await _writer.DisposeAsync();
        _writer = new GroupCommitWriter(Open, (_, heavyMayWait) =>
        {
            int ran;
            lock (_ran)
            {
                ran = _ran.Count;
            }
            lock (told)
            {
                told.Add((heavyMayWait, ran));
            }
            return Volatile.Read(ref behind);
        }, clock);
        // The hook runs after the batch's writes are released: wait for the first call made after this write had run.
        async Task<bool> ToldAfter(Task write, string name)
        {
            await write;
            int position;
            lock (_ran)
            {
                position = _ran.LastIndexOf(name);
            }
            var call = (false, 0);
            await WaitUntilAsync(() =>
            {
                lock (told)
                {
                    var index = told.FindIndex(t => t.Ran > position);
                    call = index < 0 ? call : told[index];
                    return index >= 0;
                }
            }, "the writer did not call the hook after the batch");
            return call.Item1;
        }

        await Task.WhenAll(Enumerable.Range(1, 19).Select(n => Write("flood", n)));
        Assert.False(await ToldAfter(Write("flood", 20), "flood/20"));
        Assert.False(await ToldAfter(Write("", 1), "/1"));
        Assert.True(await ToldAfter(Write("steady", 1), "steady/1"));

        Volatile.Write(ref behind, true);
        Assert.True(await ToldAfter(Write("steady", 2), "steady/2"));
        clock.Advance(TimeSpan.FromMilliseconds(201));
        Assert.False(await ToldAfter(Write("steady", 3), "steady/3"));
    }

    [Fact]
    public async Task While_a_heavy_writer_waits_the_others_writing_more_than_it_do_not_become_heavy()
    {
        var behind = false;
        var clock = new ManualClock();
        await _writer.DisposeAsync();
        _writer = new GroupCommitWriter(Open, (_, _) => Volatile.Read(ref behind), clock);
        await Task.WhenAll([.. Enumerable.Range(1, 40).Select(n => Write("flood", n)), Write("steady", 1)]);
        clock.Advance(TimeSpan.FromMilliseconds(240));
        Volatile.Write(ref behind, true);
        await Write("steady", 2);

        var flood = Write("flood", 41);
        clock.Advance(TimeSpan.FromMilliseconds(20));
        // Past the share window: counted afresh, the steady owner's writes would now be the most, and the flood's go on.
        for (var n = 3; n < 10; n++)
        {
            await Write("steady", n);
        }
        Assert.DoesNotContain("flood/41", Ran);

        Volatile.Write(ref behind, false);
        await flood;
        Assert.Equal(50, Count());
    }

    [Fact]
    public async Task A_few_writes_never_make_a_tenant_heavy_so_a_light_one_is_not_held_when_a_window_has_just_begun()
    {
        var behind = false;
        var told = false;
        await _writer.DisposeAsync();
        _writer = new GroupCommitWriter(Open, (_, heavyMayWait) =>
        {
            Volatile.Write(ref told, heavyMayWait);
            return Volatile.Read(ref behind);
        }, new StillClock());
        await Write("steady", 1);
        await Write("steady", 2);
        await Write("flood", 1);
        Volatile.Write(ref behind, true);

        // Two units against one: more than an equal share, but far too few to be a flood.
        await Write("steady", 3).WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(Volatile.Read(ref told));
        Assert.Equal(4, Count());
    }

    private Task Write(string owner, int n, Action<DbConnection, DbTransaction>? extra = null) =>
        _writer.WriteAsync<object?>(owner, (connection, transaction) =>
        {
            lock (_ran)
            {
                _ran.Add($"{owner}/{n}");
            }
            extra?.Invoke(connection, transaction);
            connection.Execute("INSERT INTO writes (owner, n) VALUES (@owner, @n)", new { owner, n }, transaction);
            return null;
        }, CancellationToken.None);

    private List<string> Ran
    {
        get
        {
            lock (_ran)
            {
                return [.. _ran.Distinct()];
            }
        }
    }

    private long Count(string where = "1 = 1")
    {
        using var connection = Open();
        return connection.ExecuteScalar<long>($"SELECT COUNT(*) FROM writes WHERE {where}");
    }

    private sealed class StillClock : TimeProvider
    {
        private readonly long _now = Stopwatch.GetTimestamp();

        public override long GetTimestamp() => _now;
    }

    private sealed class ManualClock : TimeProvider
    {
        private long _now = Stopwatch.GetTimestamp();

        public override long GetTimestamp() => Volatile.Read(ref _now);

        public void Advance(TimeSpan by) => Interlocked.Add(ref _now, (long)(by.TotalSeconds * TimestampFrequency));
    }

    private DbConnection Open()
    {
        var connection = new SqliteConnection($"Data Source={_file};Pooling=false");
        connection.Open();
        return connection;
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string failure)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(5);
        }
    }
}
