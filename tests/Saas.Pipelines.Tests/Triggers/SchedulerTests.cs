using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Saas.Pipelines.Triggers;

namespace Saas.Pipelines.Tests.Triggers;

public sealed class SchedulerTestsOnSqlite() : SchedulerTests(Saas.Tests.StoreAdapter.Sqlite);

public sealed class SchedulerTestsOnPostgres() : SchedulerTests(Saas.Tests.StoreAdapter.Postgres);

/// <summary>Written once, run on every database adapter.</summary>
public abstract class SchedulerTests(Saas.Tests.StoreAdapter adapter)
{
    private const string EveryFiveMinutes = """
        {"name":"s","trigger":{"type":"schedule","cron":"*/5 * * * *","timeZone":"America/New_York"},
         "steps":[{"id":"a","type":"select","fields":["scheduledAt"]}]}
        """;

    [Fact]
    public async Task Ticks_fire_once_each_survive_a_restart_without_double_fire_and_missed_ticks_fire_once()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2026, 11, 25, 12, 1, 0, TimeSpan.Zero));
        var directory = Path.Combine(Path.GetTempPath(), "flowgate-scheduler-tests", Guid.NewGuid().ToString("N"));
        void UseFakeTime(IServiceCollection services) => services.AddSingleton<TimeProvider>(time);
        using var postgres = adapter == Saas.Tests.StoreAdapter.Postgres ? Saas.Tests.Postgres.NewDatabase() : null;

        await using (var engine = new Engine(UseFakeTime, directory, adapter: adapter, postgres: postgres?.ConnectionString))
        {
            await engine.CreatePipelineAsync(EveryFiveMinutes);
            var scheduler = engine.Get<Scheduler>();

            Assert.Empty(await scheduler.TickAsync(CancellationToken.None));
            time.Advance(TimeSpan.FromMinutes(4));
            Assert.Single(await scheduler.TickAsync(CancellationToken.None));
            Assert.Empty(await scheduler.TickAsync(CancellationToken.None));
        }

        await using (var restarted = new Engine(UseFakeTime, directory, adapter: adapter, postgres: postgres?.ConnectionString))
        {
            var scheduler = restarted.Get<Scheduler>();
            Assert.Empty(await scheduler.TickAsync(CancellationToken.None));

            time.Advance(TimeSpan.FromHours(2));
            Assert.Single(await scheduler.TickAsync(CancellationToken.None));
            Assert.Empty(await scheduler.TickAsync(CancellationToken.None));
            Assert.Equal(2, restarted.Scalar("SELECT COUNT(*) FROM runs"));
            Assert.Equal(
                new DateTimeOffset(2026, 11, 25, 14, 5, 0, TimeSpan.Zero).ToUnixTimeMilliseconds(),
                restarted.Scalar("SELECT last_fire_at FROM schedule_state"));
        }
        Directory.Delete(directory, recursive: true);
    }
}

public sealed class ScheduleOccurrenceTests
{
    [Fact]
    public void Next_occurrences_follow_the_pipelines_time_zone()
    {
        var next = Scheduler.NextOccurrences("0 9 * * *", "Europe/Berlin", new DateTimeOffset(2026, 3, 28, 12, 0, 0, TimeSpan.Zero), 2).ToList();

        Assert.Equal(new DateTimeOffset(2026, 3, 29, 7, 0, 0, TimeSpan.Zero), next[0].ToUniversalTime());
        Assert.Equal(new DateTimeOffset(2026, 3, 30, 7, 0, 0, TimeSpan.Zero), next[1].ToUniversalTime());
    }
}
