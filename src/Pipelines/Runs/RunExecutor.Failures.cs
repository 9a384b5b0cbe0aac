using Dapper;
using System.Data.Common;

namespace Saas.Pipelines.Runs;

public sealed partial class RunExecutor
{
    /// <summary>
    /// Fails the run of a work item whose message could not be processed (poison): records the reason as
    /// a dead letter and as the run's error, and removes the run's remaining work. Nothing happens if the
    /// run has already finished or the item's step is already committed.
    /// </summary>
    /// <returns>Whether this call failed the run.</returns>
    public async Task<bool> FailUndeliverableAsync(WorkItem item, string reason, CancellationToken cancellationToken)
    {
        var run = runs.Find(item.TenantId, item.RunId);
        if (run is null)
        {
            return false;
        }
        var failed = await database.WriteAsync(run.TenantId, (connection, transaction) =>
        {
            if (!CanCommit(connection, transaction, item))
            {
                return false;
            }
            FailRun(connection, transaction, run, item, reason, Now);
            return true;
        }, cancellationToken);
        if (failed)
        {
            LogRunFailed(logger, run.Id, reason, new InvalidOperationException(reason));
            signals.Finished(run.Id);
        }
        return failed;
    }

    /// <summary>Inside a commit: the item's dead letter with the reason, the run's remaining work removed, the run failed.</summary>
    private void FailRun(DbConnection connection, DbTransaction transaction, RunRow run, WorkItem item, string reason, long now)
    {
        const string deadLetter = """
            INSERT INTO dead_letters (tenant_id, run_id, kind, step_index, chunk, attempts, reason, created_at)
            VALUES (@TenantId, @RunId, @Kind, @StepIndex, @Chunk, @Attempt, @reason, @now)
            """;
        connection.Execute(deadLetter, new { item.TenantId, item.RunId, item.Kind, item.StepIndex, item.Chunk, item.Attempt, reason, now }, transaction);
        queue.RemoveAll(connection, transaction, run.TenantId, run.Id);
        FinishRun(connection, transaction, run, RunStatus.Failed, null, null, reason, now);
    }
}
