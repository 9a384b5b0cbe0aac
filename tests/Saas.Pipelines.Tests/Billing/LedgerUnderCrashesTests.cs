using Saas.Pipelines.Metering;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Billing;

public sealed class LedgerUnderCrashesTestsOnSqlite() : LedgerUnderCrashesTests(Saas.Tests.StoreAdapter.Sqlite);

public sealed class LedgerUnderCrashesTestsOnPostgres() : LedgerUnderCrashesTests(Saas.Tests.StoreAdapter.Postgres);

/// <summary>The ledger bills exactly what was committed, whatever happens to the workers in between; on every database adapter.</summary>
public abstract class LedgerUnderCrashesTests(Saas.Tests.StoreAdapter adapter)
{
    [Fact]
    public async Task Ledger_totals_equal_committed_step_runs_across_hundreds_of_runs_with_dropped_and_redelivered_work_and_a_restart()
    {
        var random = new Random(20261125);
        var data = Path.Combine(Path.GetTempPath(), "flowgate-ledger-crash", Guid.NewGuid().ToString("N"));
        string tenant;
        var runs = new List<string>();
        var expectedSteps = 0L;
        var dropped = 0;
        var redelivered = 0;
        using var postgres = adapter == Saas.Tests.StoreAdapter.Postgres ? Saas.Tests.Postgres.NewDatabase() : null;
        await using (var engine = new Engine(dataDirectory: data, adapter: adapter, postgres: postgres?.ConnectionString))
        {
            var pipelines = new List<(Saas.Pipelines.Pipelines.PipelineRow Pipeline, int Steps)>();
            (tenant, var first) = await engine.CreatePipelineAsync(Definition(1));
            pipelines.Add((first, 1));
            foreach (var steps in new[] { 2, 3 })
            {
                var compiled = Saas.Pipelines.Definitions.DefinitionParser.Parse(Definition(steps));
                pipelines.Add((await engine.Get<Saas.Pipelines.Pipelines.PipelineStore>().CreateAsync(tenant, Definition(steps), compiled.Pipeline!, publishedBy: null, CancellationToken.None), steps));
            }
            for (var i = 0; i < 300; i++)
            {
                var (pipeline, steps) = pipelines[random.Next(pipelines.Count)];
                var records = string.Join(",", Enumerable.Range(0, random.Next(1, 4)).Select(n => $$"""{"n":{{n}},"i":{{i}}}"""));
                runs.Add((await engine.StartAsync(tenant, pipeline, $"[{records}]")).Id);
                expectedSteps += steps;
            }
            // Work half of what is dispatched with faults: a worker that dies before its commit (the item is
            // dropped; its lease runs out) or a message delivered again after its commit.
            var executor = engine.Get<RunExecutor>();
            var dispatcher = engine.Get<WorkDispatcher>();
            for (var i = 0; i < 150 && dispatcher.TryTake(out var work); i++)
            {
                switch (random.Next(4))
                {
                    case 0:
                        dropped++;
                        break;
                    case 1:
                        dispatcher.Dispatch(await executor.ExecuteAndCommitAsync(work.Item, CancellationToken.None));
                        Assert.Empty(await executor.ExecuteAndCommitAsync(work.Item, CancellationToken.None));
                        redelivered++;
                        break;
                    default:
                        dispatcher.Dispatch(await executor.ExecuteAndCommitAsync(work.Item, CancellationToken.None));
                        break;
                }
            }
        }
        // The process is gone with its in-memory dispatch queue; a new one takes over once the leases expire.
        await using (var restarted = new Engine(dataDirectory: data, adapter: adapter, postgres: postgres?.ConnectionString))
        {
            await restarted.DrainAsync(TimeSpan.FromSeconds(120));
            var store = restarted.Get<RunStore>();
            Assert.All(runs, id => Assert.Equal(RunStatus.Succeeded, store.Find(tenant, id)!.Status));
            var committed = restarted.Scalar("SELECT COUNT(*) FROM step_runs WHERE tenant_id = @tenant AND status = 'succeeded'", new { tenant });
            var ledger = restarted.Get<UsageLedger>().Quantities(tenant, DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1)).Single(q => q.Meter == Meters.StepExecutions).Quantity;
            Assert.Equal(expectedSteps, committed);
            Assert.Equal(committed, ledger);
            Assert.True(dropped > 10 && redelivered > 10, $"too few faults: {dropped} dropped, {redelivered} redelivered");
        }
        Directory.Delete(data, recursive: true);
    }

    private static string Definition(int steps)
    {
        var list = string.Join(",", Enumerable.Range(0, steps).Select(s => "{\"id\":\"s" + s + "\",\"type\":\"map\",\"fields\":{\"m" + s + "\":\"record.n + " + s + "\"}}"));
        return "{\"name\":\"p" + steps + "\",\"trigger\":{\"type\":\"http\"},\"steps\":[" + list + "]}";
    }
}
