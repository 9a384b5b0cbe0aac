using Dapper;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Runs;

/// <summary>
/// When other processes execute the work (the Functions app), a run's end is never signalled in this
/// one: while anyone here waits for runs (<c>?wait=true</c>), their rows are watched and the waiters
/// released when they finish.
/// </summary>
public sealed partial class RunFinishWatcher(Database database, RunSignals signals, ILogger<RunFinishWatcher> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(50);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            var waiting = signals.Waiting.ToArray();
            if (waiting.Length == 0)
            {
                continue;
            }
            try
            {
                foreach (var runId in FinishedAmong(waiting))
                {
                    signals.Finished(runId);
                }
            }
            catch (Exception error) when (!stoppingToken.IsCancellationRequested)
            {
                LogWatchFailed(logger, error);
            }
        }
    }

    /// <summary>By run id alone: the ids come from this process's own waiters, each already authorized for its tenant.</summary>
    private IReadOnlyList<string> FinishedAmong(string[] runIds)
    {
        const string sql = "SELECT id FROM runs WHERE id IN @runIds AND status IN ('succeeded', 'failed', 'cancelled')";
        // Dapper expands a list into (@a, @b, ...) for SQLite but sends it to PostgreSQL as one array.
        const string postgres = "SELECT id FROM runs WHERE id = ANY(@runIds) AND status IN ('succeeded', 'failed', 'cancelled')";
        using var connection = database.OpenConnection();
        return connection.Query<string>(database.Dialect == SqlDialect.Postgres ? postgres : sql, new { runIds }).AsList();
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Watching waited-for runs failed")]
    private static partial void LogWatchFailed(ILogger logger, Exception error);
}
