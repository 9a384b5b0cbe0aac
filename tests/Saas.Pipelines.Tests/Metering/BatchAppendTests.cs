using Saas.Pipelines.Ai;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Tests.Metering;

public sealed class BatchAppendTestsOnSqlite() : BatchAppendTests(Saas.Tests.StoreAdapter.Sqlite);

public sealed class BatchAppendTestsOnPostgres() : BatchAppendTests(Saas.Tests.StoreAdapter.Postgres);

/// <summary>The batch inserts store every column as given (nulls, empty text, quotes, large numbers), on every database adapter.</summary>
public abstract class BatchAppendTests(Saas.Tests.StoreAdapter adapter) : IAsyncLifetime
{
    private readonly Engine _engine = new(adapter: adapter);

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await _engine.DisposeAsync();

    [Fact]
    public async Task A_batch_of_usage_events_keeps_quantities_nulls_and_models_and_the_same_key_twice_is_one_event()
    {
        var at = DateTimeOffset.Parse("2026-11-02T10:00:00Z");
        UsageEvent[] batch =
        [
            new("t1", Meters.GatewayRequests, 1, "req_1", null, null, at.ToUnixTimeMilliseconds()) { Model = "gpt-x" },
            new("t1", Meters.LlmInputTokens, 9_000_000_001, "req_1", "pl_1", "run_1", at.ToUnixTimeMilliseconds()) { Model = "gpt-x \"quoted\" ünïcode" },
            new("t1", Meters.GatewayRequests, 1, "req_1", null, null, at.ToUnixTimeMilliseconds()) { Model = "gpt-x" },
            new("t2", Meters.GatewayRequests, 1, "req_1", null, null, at.ToUnixTimeMilliseconds()),
        ];

        await _engine.Get<Database>().WriteAsync((connection, transaction) => UsageLedger.AppendMany(connection, transaction, batch));
        await _engine.Get<Database>().WriteAsync((connection, transaction) => UsageLedger.AppendMany(connection, transaction, batch[..1]));

        var ledger = _engine.Get<UsageLedger>();
        var byModel = ledger.Totals("t1", at.AddDays(-1), at.AddDays(1), UsageGrouping.Model);
        Assert.Equal(
            [new UsageTotal(Meters.GatewayRequests, "gpt-x", 1), new UsageTotal(Meters.LlmInputTokens, "gpt-x \"quoted\" ünïcode", 9_000_000_001)],
            byModel.OrderBy(t => t.Meter));
        Assert.Equal([new UsageTotal(Meters.LlmInputTokens, "pl_1", 9_000_000_001)], ledger.Totals("t1", at.AddDays(-1), at.AddDays(1), UsageGrouping.Pipeline).Where(t => t.Group is not null));
        Assert.Equal([new UsageTotal(Meters.GatewayRequests, null, 1)], ledger.Totals("t2", at.AddDays(-1), at.AddDays(1), UsageGrouping.Meter));
    }

    [Fact]
    public async Task A_batch_of_request_log_entries_reads_back_field_for_field()
    {
        AiRequestEntry[] batch =
        [
            new("t1", "req_a", AiRequestSources.Gateway, "key_1", null, "smart", "up", "up-model", "chat/completions", 200, true, false, 11, 7, 0.000125, 12.5, null, "{\"q\":\"ü\"}", null, 1_764_000_000_000),
            new("t1", "req_b", AiRequestSources.Gateway, "key_1", null, "smart", null, null, "embeddings", 502, false, true, 0, 0, 0, 3.25, "every provider failed: \"x\"", null, null, 1_764_000_000_001),
            new("t1", "req_c", AiRequestSources.Step, null, "run_1", "", "", "", "chat/completions", 200, false, false, 0, 0, 0, 0, "", "", "", 1_764_000_000_002),
        ];

        await _engine.Get<Database>().WriteAsync((connection, transaction) => AiRequestLog.AppendMany(connection, transaction, batch));
        await _engine.Get<Database>().WriteAsync((connection, transaction) => AiRequestLog.AppendMany(connection, transaction, batch));

        var read = _engine.Get<AiRequestLog>().List("t1", 10, null);
        Assert.Equal(batch.Reverse(), read);
    }
}
