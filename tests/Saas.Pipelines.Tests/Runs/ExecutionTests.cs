using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Runs;

public sealed class ExecutionTestsOnSqlite() : ExecutionTests(Saas.Tests.StoreAdapter.Sqlite);

public sealed class ExecutionTestsOnPostgres() : ExecutionTests(Saas.Tests.StoreAdapter.Postgres);

/// <summary>Written once, run on every database adapter.</summary>
public abstract class ExecutionTests(Saas.Tests.StoreAdapter adapter)
{
    private const string ThreeSteps = """
        {"name":"p","trigger":{"type":"http"},"steps":[
          {"id":"a","type":"map","fields":{"x":"record.n * 2"}},
          {"id":"b","type":"filter","where":"record.x > 2"},
          {"id":"c","type":"drop","fields":["n"]}]}
        """;

    /// <summary>Big enough that step outputs go to the blob store rather than inline into the database, so each step commits alone.</summary>
    private static readonly string LargeRecords = "[" + string.Join(",", Enumerable.Range(1, 3).Select(n => $$"""{"n":{{n}},"pad":"{{new string('x', 40_000)}}"}""")) + "]";

    [Fact]
    public async Task Fast_steps_of_a_small_chunk_commit_together_and_each_is_recorded_once()
    {
        await using var engine = new Engine(adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, """[{"n":1},{"n":2}]""");

        var next = await engine.Get<RunExecutor>().ExecuteAndCommitAsync(engine.Take(), CancellationToken.None);

        Assert.Empty(next);
        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
        var steps = engine.Get<RunStore>().StepRuns(tenant, run.Id);
        Assert.Equal([2L, 2L, 1L], steps.Select(s => s.RecordsIn!.Value));
        Assert.Equal([2L, 1L, 1L], steps.Select(s => s.RecordsOut!.Value));
        Assert.Equal(3, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
        using var output = await engine.Get<Saas.Pipelines.Blobs.SmallBlobs>().OpenReadAsync(tenant, Saas.Pipelines.Blobs.BlobKeys.StepOutput(tenant, run.Id, 0, 0), CancellationToken.None);
        Assert.Equal("{\"n\":1,\"x\":2}\n{\"n\":2,\"x\":4}\n", await new StreamReader(output).ReadToEndAsync());
    }

    [Fact]
    public async Task Redelivered_work_for_a_committed_step_is_skipped()
    {
        await using var engine = new Engine(adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, LargeRecords);
        var first = engine.Take();
        var executor = engine.Get<RunExecutor>();

        var next = await executor.ExecuteAndCommitAsync(first, CancellationToken.None);
        var redelivered = await executor.ExecuteAndCommitAsync(first, CancellationToken.None);

        Assert.Single(next);
        Assert.Empty(redelivered);
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM step_runs WHERE run_id = @Id", new { run.Id }));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
        engine.Get<WorkDispatcher>().Dispatch(next);
        await engine.DrainAsync();
        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
        Assert.Equal(3, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
    }

    [Fact]
    public async Task Concurrent_executions_of_one_item_commit_its_effects_once()
    {
        await using var engine = new Engine(adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, LargeRecords);
        var item = engine.Take();
        var executor = engine.Get<RunExecutor>();

        var results = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(() => executor.ExecuteAndCommitAsync(item, CancellationToken.None))));

        Assert.Equal(1, results.Count(r => r.Count == 1));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM work_items WHERE run_id = @Id", new { run.Id }));
    }

    [Fact]
    public async Task Work_leased_to_a_node_that_stops_gracefully_is_released_for_others_at_once()
    {
        await using var engine = new Engine(adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(ThreeSteps);
        await engine.StartAsync(tenant, pipeline, """[{"n":1}]""");
        var queue = engine.Get<WorkQueue>();

        var leasedBeforeRelease = engine.Scalar("SELECT COUNT(*) FROM work_items WHERE lease_owner IS NOT NULL");
        var released = await queue.ReleaseLeasesAsync(CancellationToken.None);
        var leasedAfterRelease = engine.Scalar("SELECT COUNT(*) FROM work_items WHERE lease_owner IS NOT NULL");

        Assert.Equal(1, leasedBeforeRelease);
        Assert.Equal(1, released);
        Assert.Equal(0, leasedAfterRelease);
        Assert.Single(await queue.LeaseDue(10, CancellationToken.None));
    }

    [Fact]
    public async Task Transient_failures_are_retried_with_backoff_and_the_run_succeeds_billed_once()
    {
        var flaky = new FlakyBlobs(failures: 2);
        await using var engine = new Engine(services => services.AddSingleton<IBlobStore>(sp => flaky.Wrap(new FolderBlobStore(sp.GetRequiredService<IOptions<FlowgateOptions>>()))), adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(ThreeSteps);
        var run = await engine.StartAsync(tenant, pipeline, LargeRecords);

        await engine.DrainAsync();

        var finished = engine.Get<RunStore>().Find(tenant, run.Id)!;
        Assert.Equal(RunStatus.Succeeded, finished.Status);
        var steps = engine.Get<RunStore>().StepRuns(tenant, run.Id);
        Assert.Equal(3, steps[0].Attempts);
        Assert.All(steps, s => Assert.Equal(StepStatus.Succeeded, s.Status));
        Assert.Equal(3, engine.Scalar("SELECT COUNT(*) FROM usage_events WHERE run_id = @Id", new { run.Id }));
    }

    [Fact]
    public async Task A_step_that_keeps_failing_fails_the_run_after_its_last_attempt_and_is_dead_lettered()
    {
        var flaky = new FlakyBlobs(failures: int.MaxValue);
        await using var engine = new Engine(services => services.AddSingleton<IBlobStore>(sp => flaky.Wrap(new FolderBlobStore(sp.GetRequiredService<IOptions<FlowgateOptions>>()))), adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(ThreeSteps.Replace("\"steps\"", "\"settings\":{\"maxAttempts\":4},\"steps\""));
        var run = await engine.StartAsync(tenant, pipeline, LargeRecords);

        await engine.DrainAsync();

        var failed = engine.Get<RunStore>().Find(tenant, run.Id)!;
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Equal("step 'a': failed after 4 attempts: disk unavailable", failed.Error);
        Assert.Equal(4, flaky.Attempts);
        var dead = Assert.Single(engine.Get<RunStore>().DeadLetters(tenant, run.Id));
        Assert.Equal(4, dead.Attempts);
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM work_items"));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM usage_events"));
    }

    /// <summary>A blob store whose step-output writes fail the first N times, as a full or flaky disk would.</summary>
    private sealed class FlakyBlobs(int failures)
    {
        public int Attempts;

        public int Failures { get; } = failures;

        public IBlobStore Wrap(IBlobStore inner) => new Store(inner, this);

        private sealed class Store(IBlobStore inner, FlakyBlobs owner) : IBlobStore
        {
            public Task<Stream> OpenWriteAsync(string key, CancellationToken cancellationToken)
            {
                if (key.Contains(".step-000", StringComparison.Ordinal) && Interlocked.Increment(ref owner.Attempts) <= owner.Failures)
                {
                    throw new IOException("disk unavailable");
                }
                return inner.OpenWriteAsync(key, cancellationToken);
            }

            public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) => inner.OpenReadAsync(key, cancellationToken);

            public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
        }
    }
}
