using Saas.Pipelines.Blobs;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Limits;

public sealed class LowPriorityTests
{
    [Fact]
    public async Task While_two_tenants_have_work_only_the_items_of_the_one_with_more_waiting_than_it_may_run_are_backlog()
    {
        await using var engine = new Engine(settings: new Dictionary<string, string?>
        {
            ["Flowgate:Limits:MaxConcurrentSteps"] = "4",
            ["Flowgate:Limits:ContendedConcurrentSteps"] = "2",
        });
        var dispatcher = engine.Get<WorkDispatcher>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var cancel = timeout.Token;

        // Alone, a tenant's items are never backlog, however many wait.
        for (var i = 0; i < 6; i++)
        {
            dispatcher.Dispatch(Item("tn_flood", i));
        }
        var alone = await dispatcher.TakeAsync(cancel);
        Assert.False(alone.Backlog);
        dispatcher.Finished(alone.Item.TenantId);

        // With another tenant's item here, the flooding tenant's items that leave more waiting are backlog; the other's is not.
        dispatcher.Dispatch(Item("tn_steady", 100));
        var taken = new List<DispatchedWork>();
        for (var i = 0; i < 3; i++)
        {
            taken.Add(await dispatcher.TakeAsync(cancel));
        }
        Assert.Equal(["tn_flood", "tn_steady", "tn_flood"], taken.Select(w => w.Item.TenantId));
        Assert.Equal([true, false, true], taken.Select(w => w.Backlog));
    }

    [Fact]
    public async Task Work_on_the_low_priority_scheduler_runs_and_continues_after_an_await_on_threads_at_the_lowest_priority()
    {
        var priorities = new List<string>();
        await LowPriorityScheduler.Shared.RunAsync(async () =>
        {
            priorities.Add(CurrentPriority());
            await Task.Delay(10);
            priorities.Add(CurrentPriority());
        }, CancellationToken.None);

        var lowest = OperatingSystem.IsLinux() ? $"nice {LowPriority.Nice}" : nameof(ThreadPriority.Lowest);
        Assert.Equal([lowest, lowest], priorities);
        Assert.NotEqual(lowest, CurrentPriority());
    }

    [Fact]
    public async Task Synchronous_writes_that_spill_to_an_asynchronous_blob_store_finish_when_every_low_priority_thread_blocks_on_one()
    {
        var store = new SlowBlobStore();
        var big = new byte[SmallBlobs.MaxInlineBytes + 1];

        // As many writers as the scheduler has threads, each blocking its thread in a synchronous Write that spills: the
        // store's continuations must not need one of those threads.
        var writers = Enumerable.Range(0, Environment.ProcessorCount).Select(i => LowPriorityScheduler.Shared.RunAsync(async () =>
        {
            await Task.Yield();
            var stream = new SpillingBlobStream(store, $"blob-{i}");
            stream.Write(big, 0, big.Length);
            stream.Write(big, 0, big.Length);
            await stream.CompleteAsync();
        }, CancellationToken.None));

        await Task.WhenAll(writers).WaitAsync(TimeSpan.FromSeconds(20));
        Assert.All(Enumerable.Range(0, Environment.ProcessorCount), i => Assert.Equal(2 * big.Length, store.Written[$"blob-{i}"].Length));
    }

    /// <summary>A blob store whose writes complete asynchronously, as a real one's do.</summary>
    private sealed class SlowBlobStore : IBlobStore
    {
        public System.Collections.Concurrent.ConcurrentDictionary<string, byte[]> Written { get; } = new();

        public async Task<Stream> OpenWriteAsync(string key, CancellationToken cancellationToken)
        {
            await Task.Delay(5, cancellationToken);
            return new SlowStream(bytes => Written[key] = bytes);
        }

        public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => throw new NotSupportedException();
    }

    private sealed class SlowStream(Action<byte[]> completed) : MemoryStream
    {
        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            await Task.Delay(5, cancellationToken);
            Write(buffer.Span);
        }

        public override ValueTask DisposeAsync()
        {
            completed(ToArray());
            return base.DisposeAsync();
        }
    }

    private static string CurrentPriority() =>
        OperatingSystem.IsLinux() ? $"nice {LowPriority.CurrentThreadNice()}" : Thread.CurrentThread.Priority.ToString();

    private static WorkItem Item(string tenantId, long id) => new(id, tenantId, $"run_{id}", WorkKinds.Step, 0, 0, 1);
}
