using System.Text.Json;
using Azure.Storage.Queues.Models;
using Saas.Pipelines.Runs;
using Saas.Tests;

namespace Saas.Pipelines.Tests.Runs;

public sealed class StorageQueueWorkTestsOnSqlite() : StorageQueueWorkTests(StoreAdapter.Sqlite);

/// <summary>PostgreSQL + Azurite: the production pairing of database and work queue.</summary>
public sealed class StorageQueueWorkTestsOnPostgres() : StorageQueueWorkTests(StoreAdapter.Postgres);

/// <summary>The outbox relay and the work-message consumer against the Storage queue of Azurite (decision 015), on every database adapter.</summary>
public abstract class StorageQueueWorkTests(StoreAdapter adapter) : IAsyncLifetime
{
    private readonly string _queue = $"work-{Guid.NewGuid():N}";

    /// <summary>One database per test, shared by the engines a test starts (like the web host and the Functions app).</summary>
    private readonly PostgresDatabase? _postgres = adapter == StoreAdapter.Postgres ? Postgres.NewDatabase() : null;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        _postgres?.Dispose();
        var queues = Azurite.Queues();
        await queues.GetQueueClient(_queue).DeleteIfExistsAsync();
        await queues.GetQueueClient($"{_queue}-poison").DeleteIfExistsAsync();
    }

    private Engine NewEngine(int maxDequeueCount = 5, int leaseSeconds = 5) =>
        new(settings: Settings(maxDequeueCount, leaseSeconds), adapter: adapter, postgres: _postgres?.ConnectionString);

    private Dictionary<string, string?> Settings(int maxDequeueCount = 5, int leaseSeconds = 5) => new()
    {
        ["Flowgate:Queue:Provider"] = "azure-storage",
        ["Flowgate:Queue:Name"] = _queue,
        ["Flowgate:Queue:MaxDequeueCount"] = maxDequeueCount.ToString(),
        ["Flowgate:Runtime:LeaseSeconds"] = leaseSeconds.ToString(),
        ["ConnectionStrings:Queues"] = Azurite.ConnectionString,
    };

    [Fact]
    public async Task A_run_travels_through_the_queue_with_one_message_per_work_item()
    {
        await using var engine = NewEngine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, TestPipelines.LargeRecords);
        await ForwardDispatchedAsync(engine);

        var outcomes = await ConsumeAsync(engine, TimeSpan.FromSeconds(30));

        Assert.Equal([WorkMessageOutcome.Executed, WorkMessageOutcome.Executed, WorkMessageOutcome.Executed], outcomes);
        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
        Assert.Equal(3, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
        Assert.Equal(0, await engine.Get<StorageWorkQueue>().RelayDueAsync(100, CancellationToken.None));
    }

    [Fact]
    public async Task A_message_redelivered_after_a_crash_between_commit_and_delete_is_harmless()
    {
        await using var engine = NewEngine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, TestPipelines.LargeRecords);
        await ForwardDispatchedAsync(engine);
        var transport = engine.Get<StorageWorkQueue>();
        var handler = engine.Get<WorkMessageHandler>();

        // The worker executes and commits the first step, then dies before deleting the message.
        var first = (await transport.Work.ReceiveMessageAsync(TimeSpan.FromSeconds(1))).Value;
        Assert.Equal(WorkMessageOutcome.Executed, await handler.HandleAsync(first.Body.ToString(), first.DequeueCount, CancellationToken.None));
        await Task.Delay(TimeSpan.FromSeconds(1.5));

        var outcomes = await ConsumeAsync(engine, TimeSpan.FromSeconds(30));

        Assert.Contains(WorkMessageOutcome.Stale, outcomes);
        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
        Assert.Equal(3, engine.Scalar("SELECT COUNT(*) FROM step_runs WHERE run_id = @Id", new { run.Id }));
        Assert.Equal(3, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
    }

    [Fact]
    public async Task Work_whose_message_was_never_sent_is_relayed_once_its_lease_runs_out()
    {
        await using var engine = NewEngine(leaseSeconds: 1);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, TestPipelines.LargeRecords);
        engine.Take(); // committed, but the process died before its message was sent
        var transport = engine.Get<StorageWorkQueue>();

        Assert.Equal(0, await transport.RelayDueAsync(100, CancellationToken.None));
        await Task.Delay(TimeSpan.FromSeconds(1.2));
        Assert.Equal(1, await transport.RelayDueAsync(100, CancellationToken.None));
        Assert.Equal(0, await transport.RelayDueAsync(100, CancellationToken.None));

        await ConsumeAsync(engine, TimeSpan.FromSeconds(30));
        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
    }

    [Fact]
    public async Task A_message_delivered_more_often_than_the_limit_goes_to_the_poison_queue_and_fails_the_run()
    {
        await using var engine = NewEngine(maxDequeueCount: 2);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, TestPipelines.LargeRecords);
        await ForwardDispatchedAsync(engine);
        var transport = engine.Get<StorageWorkQueue>();
        for (var crash = 0; crash < 2; crash++)
        {
            Assert.NotNull((await transport.Work.ReceiveMessageAsync(TimeSpan.FromSeconds(1))).Value);
            await Task.Delay(TimeSpan.FromSeconds(1.2));
        }

        var outcomes = await ConsumeAsync(engine, TimeSpan.FromSeconds(10));

        Assert.Equal([WorkMessageOutcome.Poisoned], outcomes);
        var failed = engine.Get<RunStore>().Find(tenant, run.Id)!;
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("delivered 3 times", failed.Error);
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM dead_letters WHERE run_id = @Id", new { run.Id }));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM work_items WHERE run_id = @Id", new { run.Id }));
        var poison = (await transport.Poison.ReceiveMessageAsync()).Value;
        using var body = JsonDocument.Parse(poison.Body.ToString());
        Assert.Contains("Flowgate:Queue:MaxDequeueCount is 2", body.RootElement.GetProperty("reason").GetString());
        Assert.Contains(run.Id, body.RootElement.GetProperty("message").GetString());
    }

    [Fact]
    public async Task A_caller_waiting_in_a_process_that_does_not_execute_the_work_is_released_when_the_run_finishes()
    {
        await using var engine = NewEngine();
        var watcher = engine.Get<IEnumerable<Microsoft.Extensions.Hosting.IHostedService>>().OfType<RunFinishWatcher>().Single();
        await watcher.StartAsync(CancellationToken.None);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, TestPipelines.LargeRecords);
        var finished = engine.Get<RunSignals>().WhenFinished(run.Id);
        await ForwardDispatchedAsync(engine);

        // Another engine (the Functions app) executes the work; only the database is shared.
        await using (var functions = new Engine(dataDirectory: engine.DataDirectory, settings: Settings(), adapter: adapter, postgres: _postgres?.ConnectionString))
        {
            await ConsumeAsync(functions, TimeSpan.FromSeconds(30));
        }

        await finished.WaitAsync(TimeSpan.FromSeconds(30));
        await watcher.StopAsync(CancellationToken.None);
    }

    [Fact]
    public async Task An_undecodable_message_goes_to_the_poison_queue_with_the_reason()
    {
        await using var engine = NewEngine();
        var transport = engine.Get<StorageWorkQueue>();

        var outcome = await engine.Get<WorkMessageHandler>().HandleAsync("{\"hello\":", 1, CancellationToken.None);

        Assert.Equal(WorkMessageOutcome.Poisoned, outcome);
        var poison = (await transport.Poison.ReceiveMessageAsync()).Value;
        using var body = JsonDocument.Parse(poison.Body.ToString());
        Assert.StartsWith("the message is not a JSON work item", body.RootElement.GetProperty("reason").GetString());
        Assert.Equal("{\"hello\":", body.RootElement.GetProperty("message").GetString());
    }

    /// <summary>What <see cref="DispatchedWorkForwarder"/> does in a host: sends the work this process created.</summary>
    private static async Task ForwardDispatchedAsync(Engine engine)
    {
        var items = new List<WorkItem>();
        while (engine.Get<WorkDispatcher>().TryTake(out var work))
        {
            items.Add(work.Item);
        }
        await engine.Get<StorageWorkQueue>().SendAsync(items, CancellationToken.None);
    }

    /// <summary>What the Functions host does: receives under a visibility timeout (the lease), calls the handler, deletes the message when it returns.</summary>
    private static async Task<List<WorkMessageOutcome>> ConsumeAsync(Engine engine, TimeSpan timeout)
    {
        var transport = engine.Get<StorageWorkQueue>();
        var handler = engine.Get<WorkMessageHandler>();
        var outcomes = new List<WorkMessageOutcome>();
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            QueueMessage[] messages = (await transport.Work.ReceiveMessagesAsync(16, TimeSpan.FromSeconds(5))).Value;
            if (messages.Length == 0)
            {
                if (engine.Scalar("SELECT COUNT(*) FROM work_items") == 0)
                {
                    return outcomes;
                }
                await Task.Delay(50);
                continue;
            }
            foreach (var message in messages)
            {
                outcomes.Add(await handler.HandleAsync(message.Body.ToString(), message.DequeueCount, CancellationToken.None));
                await transport.Work.DeleteMessageAsync(message.MessageId, message.PopReceipt);
            }
        }
        throw new TimeoutException("the queue did not drain");
    }
}
