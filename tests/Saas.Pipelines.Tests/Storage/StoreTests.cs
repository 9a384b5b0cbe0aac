using System.Data.Common;
using System.Text.Json;
using Dapper;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Tenancy;
using Saas.Pipelines.Triggers;
using Saas.Tests;

namespace Saas.Pipelines.Tests.Storage;

public sealed class StoreTestsOnSqlite() : StoreTests(StoreAdapter.Sqlite);

public sealed class StoreTestsOnPostgres() : StoreTests(StoreAdapter.Postgres)
{
    [Fact]
    public async Task The_engine_really_runs_on_postgresql()
    {
        await using var engine = new Engine(adapter: StoreAdapter.Postgres);

        Assert.Equal(SqlDialect.Postgres, engine.Get<Database>().Dialect);
        Assert.StartsWith("PostgreSQL", engine.Get<Database>().OpenConnection().ExecuteScalar<string>("SELECT version()"));
    }
}

/// <summary>The stores' contracts, written once and run on every database adapter.</summary>
public abstract class StoreTests(StoreAdapter adapter) : IDisposable
{
    /// <summary>One database per test, shared by the "nodes" a test starts.</summary>
    private readonly PostgresDatabase? _postgres = adapter == StoreAdapter.Postgres ? Postgres.NewDatabase() : null;

    private readonly string _data = Path.Combine(Path.GetTempPath(), "flowgate-store-tests", Guid.NewGuid().ToString("N"));

    private Engine Node() => new(dataDirectory: _data, adapter: adapter, postgres: _postgres?.ConnectionString);

    public void Dispose()
    {
        _postgres?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [Fact]
    public async Task The_audit_log_refuses_updates_and_deletes()
    {
        await using var engine = Node();
        var (tenant, _) = await engine.Get<TenantStore>().CreateTenantAsync("a", CancellationToken.None);
        var audit = engine.Get<AuditLog>();
        await audit.AppendAsync(tenant.Id, AuditActor.System, "pipeline.published", "pipeline", "pl_1", null, CancellationToken.None);
        var database = engine.Get<Database>();

        await Assert.ThrowsAnyAsync<DbException>(() => database.WriteAsync((c, t) => c.Execute("UPDATE audit_log SET action = 'forged'", transaction: t)));
        await Assert.ThrowsAnyAsync<DbException>(() => database.WriteAsync((c, t) => c.Execute("DELETE FROM audit_log", transaction: t)));

        var entry = Assert.Single(audit.List(tenant.Id, 0, long.MaxValue, "pipeline.", 10, null));
        Assert.Equal("pipeline.published", entry.Action);
        Assert.Empty(audit.List(tenant.Id, 0, long.MaxValue, "member.", 10, null));
    }

    [Fact]
    public async Task Two_nodes_leasing_due_work_at_once_never_take_the_same_item()
    {
        await using var first = Node();
        await using var second = Node();
        var (tenant, pipeline) = await first.CreatePipelineAsync(TestPipelines.ThreeSteps);
        for (var i = 0; i < 40; i++)
        {
            await first.StartAsync(tenant, pipeline, """[{"n":1}]""");
        }
        // The first node "dies" with all its leases given back: every item is due for whoever asks.
        await first.Get<WorkQueue>().ReleaseLeasesAsync(CancellationToken.None);

        var leases = await Task.WhenAll(Enumerable.Range(0, 8).Select(i =>
            (i % 2 == 0 ? first : second).Get<WorkQueue>().LeaseDue(10, CancellationToken.None)));

        var ids = leases.SelectMany(l => l).Select(w => w.Id).ToList();
        Assert.Equal(40, ids.Count);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Empty(await second.Get<WorkQueue>().LeaseDue(10, CancellationToken.None));
    }

    [Fact]
    public async Task Queue_messages_pumped_by_two_nodes_at_once_start_each_run_once()
    {
        await using var first = Node();
        await using var second = Node();
        var (tenant, _) = await first.CreatePipelineAsync("""
            {"name":"q","trigger":{"type":"queue","queue":"orders"},"steps":[{"id":"a","type":"select","fields":["n"]}]}
            """);
        var messages = Enumerable.Range(0, 30).Select(n => JsonDocument.Parse($$"""{"n":{{n}}}""").RootElement).ToList();
        await first.Get<QueueMessages>().PostAsync(tenant, "orders", messages, CancellationToken.None);

        await Task.WhenAll(first.Get<QueueMessages>().PumpAsync(100, CancellationToken.None), second.Get<QueueMessages>().PumpAsync(100, CancellationToken.None));

        Assert.Equal(30, first.Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @tenant", new { tenant }));
        Assert.Equal(0, first.Scalar("SELECT COUNT(*) FROM queue_messages"));
    }

    [Fact]
    public async Task A_large_post_reaches_the_pump_whole_and_an_unfinished_one_stays_away_until_swept_as_abandoned()
    {
        await using var engine = new Engine(dataDirectory: _data, adapter: adapter, postgres: _postgres?.ConnectionString,
            settings: new Dictionary<string, string?> { ["Flowgate:Limits:MaxConcurrentSteps"] = "100" });
        var (tenant, _) = await engine.CreatePipelineAsync("""
            {"name":"q","trigger":{"type":"queue","queue":"orders"},"steps":[{"id":"a","type":"select","fields":["n"]}]}
            """);
        var queue = engine.Get<QueueMessages>();
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // Two posts a crash left unfinished: one 11 minutes ago (abandoned), one just now (maybe still being written).
        await engine.Get<Database>().WriteAsync((connection, transaction) =>
        {
            connection.Execute("INSERT INTO queue_posts (id, tenant_id, started_at) VALUES ('post_old', @tenant, @old), ('post_new', @tenant, @now)",
                new { tenant, old = now - 11 * 60_000, now }, transaction);
            queue.Insert(connection, transaction, tenant, "orders", ["""{"n":-1}""", """{"n":-2}"""], "post_old");
            queue.Insert(connection, transaction, tenant, "orders", ["""{"n":-3}"""], "post_new");
        });
        var messages = Enumerable.Range(0, 250).Select(n => JsonDocument.Parse($$"""{"n":{{n}}}""").RootElement).ToList();

        await queue.PostAsync(tenant, "orders", messages, CancellationToken.None);
        Assert.Equal(250, await queue.PumpAsync(1000, CancellationToken.None));

        Assert.Equal(250, engine.Scalar("SELECT COUNT(*) FROM runs WHERE tenant_id = @tenant", new { tenant }));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM queue_messages WHERE post_id = 'post_new'"));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM queue_messages"));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM queue_posts"));
    }

    [Fact]
    public async Task Members_keep_an_owner_and_stay_in_their_tenant()
    {
        await using var engine = Node();
        var members = engine.Get<MemberStore>();
        var database = engine.Get<Database>();
        await database.WriteAsync((c, t) => c.Execute("""
            INSERT INTO users (id, email, normalized_email, password_hash, security_stamp, concurrency_stamp, created_at)
            VALUES ('u1', 'a@x.test', 'A@X.TEST', 'hash', 's', 'c', 1), ('u2', 'b@x.test', 'B@X.TEST', NULL, 's', 'c', 2)
            """, transaction: t));
        var tenant = await members.CreateTenantForOwnerAsync("acme", "u1", CancellationToken.None);
        var other = await members.CreateTenantForOwnerAsync("other", "u2", CancellationToken.None);

        Assert.False(await members.ChangeRoleAsync(tenant.Id, "u1", MemberRoles.Viewer, CancellationToken.None));
        Assert.Null(await members.ChangeRoleAsync(tenant.Id, "u2", MemberRoles.Viewer, CancellationToken.None));
        Assert.False(await members.RemoveAsync(tenant.Id, "u1", CancellationToken.None));

        var listed = Assert.Single(members.List(tenant.Id));
        Assert.Equal(("u1", MemberRoles.Owner, true), (listed.UserId, listed.Role, listed.HasPassword));
        Assert.False(Assert.Single(members.List(other.Id)).HasPassword);
        Assert.Equal(tenant.Id, members.FindByUser("u1")!.TenantId);
    }

    [Fact]
    public async Task Api_keys_are_found_by_secret_listed_per_tenant_and_refused_once_revoked()
    {
        await using var engine = Node();
        var tenants = engine.Get<TenantStore>();
        var (tenant, key) = await tenants.CreateTenantAsync("acme", CancellationToken.None);
        var (other, _) = await tenants.CreateTenantAsync("other", CancellationToken.None);

        Assert.Equal(tenant.Id, tenants.FindApiKey(key.Secret)!.TenantId);
        Assert.False(await tenants.RevokeApiKeyAsync(other.Id, key.Id, CancellationToken.None));
        Assert.NotNull(tenants.FindApiKey(key.Secret));
        Assert.True(await tenants.RevokeApiKeyAsync(tenant.Id, key.Id, CancellationToken.None));

        Assert.Null(tenants.FindApiKey(key.Secret));
        Assert.NotNull(Assert.Single(tenants.ListApiKeys(tenant.Id)).RevokedAt);
    }

    [Fact]
    public async Task The_billing_outbox_hands_a_due_command_to_one_claimant_until_it_is_retried_completed_or_released()
    {
        await using var engine = Node();
        var outbox = engine.Get<BillingOutbox>();
        var other = new BillingOutbox(engine.Get<Database>(), TimeProvider.System);
        var (tenant, _) = await engine.Get<TenantStore>().CreateTenantAsync("acme", CancellationToken.None);
        await engine.Get<Database>().WriteAsync((c, t) => BillingOutbox.Enqueue(c, t, tenant.Id, BillingOutbox.SyncSubscription, DateTimeOffset.UtcNow.AddMinutes(-1)));

        var claimed = (await outbox.ClaimDueAsync(100, CancellationToken.None)).Where(d => d.TenantId == tenant.Id).ToList();
        var command = Assert.Single(claimed, d => d.Kind == BillingOutbox.SyncSubscription);
        Assert.DoesNotContain(await other.ClaimDueAsync(100, CancellationToken.None), d => d.TenantId == tenant.Id);
        await outbox.ReleaseAsync(CancellationToken.None);
        Assert.Contains(await other.ClaimDueAsync(100, CancellationToken.None), d => d.Id == command.Id);
        await other.RetryLaterAsync(command.Id, "stripe said 500", TimeSpan.FromHours(1), CancellationToken.None);
        Assert.DoesNotContain(await outbox.ClaimDueAsync(100, CancellationToken.None), d => d.Id == command.Id);
        await outbox.CompleteAsync(command.Id, CancellationToken.None);

        Assert.Equal(1, engine.Scalar("SELECT attempts FROM billing_outbox WHERE id = @Id", new { command.Id }));
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM billing_outbox WHERE id = @Id AND done_at IS NOT NULL AND lease_owner IS NULL", new { command.Id }));
    }

    [Fact]
    public async Task Usage_is_counted_once_per_key_and_grouped_by_utc_day()
    {
        await using var engine = Node();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        var day = new DateTimeOffset(2026, 11, 24, 23, 59, 0, TimeSpan.Zero);
        await engine.Get<Database>().WriteAsync((c, t) =>
        {
            UsageLedger.Append(c, t, new UsageEvent(tenant, Meters.StepExecutions, 1, "k1", pipeline.Id, null, day.ToUnixTimeMilliseconds()));
            UsageLedger.Append(c, t, new UsageEvent(tenant, Meters.StepExecutions, 1, "k1", pipeline.Id, null, day.ToUnixTimeMilliseconds()));
            UsageLedger.Append(c, t, new UsageEvent(tenant, Meters.StepExecutions, 2, "k2", pipeline.Id, null, day.AddMinutes(2).ToUnixTimeMilliseconds()));
            UsageLedger.Append(c, t, new UsageEvent(tenant, Meters.LlmInputTokens, 500, "k3", pipeline.Id, null, day.ToUnixTimeMilliseconds()) { Model = "gpt" });
        });
        var ledger = engine.Get<UsageLedger>();

        var perDay = ledger.Totals(tenant, day.AddDays(-1), day.AddDays(1), UsageGrouping.Day);
        Assert.Equal(
            [new UsageTotal(Meters.LlmInputTokens, "2026-11-24", 500), new UsageTotal(Meters.StepExecutions, "2026-11-24", 1), new UsageTotal(Meters.StepExecutions, "2026-11-25", 2)],
            perDay);
        Assert.Equal(3, ledger.Quantities(tenant, day.AddDays(-1), day.AddDays(1), ofRuns: false).Single(q => q.Meter == Meters.StepExecutions).Quantity);
        Assert.Empty(ledger.Quantities(tenant, day.AddDays(-1), day.AddDays(1), ofRuns: true));
        Assert.Equal("gpt", ledger.Totals(tenant, day.AddDays(-1), day.AddDays(1), UsageGrouping.Model).Single(u => u.Meter == Meters.LlmInputTokens).Group);
    }

    [Fact]
    public async Task Runs_are_counted_per_utc_day_for_the_dashboard()
    {
        await using var engine = Node();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);
        await engine.StartAsync(tenant, pipeline, """[{"n":1}]""");
        await engine.StartAsync(tenant, pipeline, """[{"n":2}]""");
        await engine.DrainAsync();

        var day = Assert.Single(engine.Get<RunStore>().CountPerDay(tenant, pipeline.Id, 0));
        Assert.Equal(new RunsPerDay(DateTime.UtcNow.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), 2, 0, 2), day);
    }
}
