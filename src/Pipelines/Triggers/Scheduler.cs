using System.Text.Json;
using Cronos;
using Dapper;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Triggers;

/// <summary>
/// Fires scheduled pipelines. Each pipeline's last fire time is stored and advanced with a
/// compare-and-set in the transaction that creates the run, so a restart never fires a tick twice;
/// after downtime only the latest missed tick fires, once, instead of a storm of catch-up runs.
/// </summary>
public sealed partial class Scheduler(Database database, PipelineStore pipelines, RunStarter starter, RunStore runs, WorkDispatcher dispatcher, TimeProvider time, ILogger<Scheduler> logger)
{
    /// <returns>The runs started by this tick.</returns>
    public async Task<IReadOnlyList<string>> TickAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var started = new List<string>();
        foreach (var pipeline in pipelines.ListScheduledAcrossTenants())
        {
            var trigger = pipelines.GetCompiled(pipeline.TenantId, pipeline.Id, pipeline.CurrentVersion).Definition.Trigger;
            var cron = CronExpression.Parse(trigger.Cron!, trigger.Cron!.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
            var zone = TimeZoneInfo.FindSystemTimeZoneById(trigger.TimeZone ?? "UTC");
            var lastFire = LastFire(pipeline) ?? DateTimeOffset.FromUnixTimeMilliseconds(pipeline.UpdatedAt);
            var due = LatestOccurrence(cron, zone, lastFire, now);
            if (due is null)
            {
                continue;
            }
            var firedAt = due.Value;
            using var input = trigger.Input is { } fixedInput
                ? JsonDocument.Parse(fixedInput.GetRawText())
                : JsonDocument.Parse(JsonSerializer.Serialize(new { scheduledAt = firedAt.ToString("O") }));
            NewRun run;
            try
            {
                run = await starter.PrepareAsync(pipeline.TenantId, pipeline, input.RootElement, "schedule", cancellationToken);
            }
            catch (Billing.SpendingRefusedException refused)
            {
                LogRefused(logger, pipeline.Id, firedAt, refused.Message);
                continue;
            }
            catch (Limits.NewWorkRefusedException refused)
            {
                LogRefused(logger, pipeline.Id, firedAt, refused.Message);
                continue;
            }
            var items = await database.WriteAsync((connection, transaction) =>
            {
                const string advance = """
                    INSERT INTO schedule_state (tenant_id, pipeline_id, last_fire_at) VALUES (@TenantId, @Id, @fired)
                    ON CONFLICT (tenant_id, pipeline_id) DO UPDATE SET last_fire_at = excluded.last_fire_at
                    WHERE schedule_state.last_fire_at < excluded.last_fire_at
                    """;
                if (connection.Execute(advance, new { pipeline.TenantId, pipeline.Id, fired = firedAt.ToUnixTimeMilliseconds() }, transaction) == 0)
                {
                    return [];
                }
                return runs.Create(connection, transaction, [run]).Items;
            }, cancellationToken);
            if (items.Count > 0)
            {
                dispatcher.Dispatch(items);
                started.Add(run.Id);
                LogFired(logger, pipeline.Id, firedAt, run.Id);
            }
        }
        return started;
    }

    /// <summary>The next <paramref name="count"/> fire times after <paramref name="from"/>, for previews.</summary>
    public static IEnumerable<DateTimeOffset> NextOccurrences(string cron, string timeZone, DateTimeOffset from, int count)
    {
        var expression = CronExpression.Parse(cron, cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard);
        return expression.GetOccurrences(from, from.AddYears(5), TimeZoneInfo.FindSystemTimeZoneById(timeZone), fromInclusive: false).Take(count);
    }

    private static DateTimeOffset? LatestOccurrence(CronExpression cron, TimeZoneInfo zone, DateTimeOffset after, DateTimeOffset now)
    {
        var next = cron.GetNextOccurrence(after, zone);
        if (next is null || next > now)
        {
            return null;
        }
        var latest = next.Value;
        foreach (var occurrence in cron.GetOccurrences(latest, now, zone, fromInclusive: false, toInclusive: true))
        {
            latest = occurrence;
        }
        return latest;
    }

    private DateTimeOffset? LastFire(PipelineRow pipeline)
    {
        const string sql = "SELECT last_fire_at FROM schedule_state WHERE tenant_id = @TenantId AND pipeline_id = @Id";
        using var connection = database.OpenConnection();
        var last = connection.ExecuteScalar<long?>(sql, new { pipeline.TenantId, pipeline.Id });
        return last is null ? null : DateTimeOffset.FromUnixTimeMilliseconds(last.Value);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Schedule of {PipelineId} for {FiredAt:O} not run: {Reason}")]
    private static partial void LogRefused(ILogger logger, string pipelineId, DateTimeOffset firedAt, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Schedule of {PipelineId} fired for {FiredAt:O}: run {RunId}")]
    private static partial void LogFired(ILogger logger, string pipelineId, DateTimeOffset firedAt, string runId);
}
