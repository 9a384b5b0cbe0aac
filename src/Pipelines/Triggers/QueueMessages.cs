using System.Text.Json;
using Dapper;
using System.Data.Common;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Triggers;

internal sealed record QueueMessageRow(long Id, string TenantId, string Queue, string Body);

/// <summary>
/// Flowgate's own queues. Posting stores the messages durably and returns; the pump then starts a
/// run of every active pipeline listening on the queue for each message, and removes the message in
/// the same transaction, so a message is turned into runs exactly once. A message nobody listens to
/// is discarded, as on a topic without subscriptions.
/// </summary>
public sealed partial class QueueMessages(
    Database database, PipelineStore pipelines, RunStarter starter, RunStore runs, WorkDispatcher dispatcher, Limits.PendingWork pending, TimeProvider time, ILogger<QueueMessages> logger)
{
    private readonly SemaphoreSlim _posted = new(0);

    /// <summary>The last pump left messages behind because their tenants had enough work waiting: look again soon.</summary>
    private volatile bool _deferred;

    private const int PumpWriteSize = 8;

    /// <exception cref="Limits.NewWorkRefusedException">The messages would take the tenant past its pending work or new work limits: none is stored.</exception>
    public async Task<int> PostAsync(string tenantId, string queue, IReadOnlyList<JsonElement> messages, CancellationToken cancellationToken)
    {
        await pending.AdmitAsync(tenantId, messages.Count, cancellationToken);
        var bodies = messages.Select(m => m.GetRawText()).ToList();
        await database.WriteAsync(tenantId, (connection, transaction) => Insert(connection, transaction, tenantId, queue, bodies), cancellationToken);
        Notify();
        return pipelines.ListByQueue(tenantId, queue).Count;
    }

    /// <summary>
    /// Posts messages inside the caller's transaction (a queue sink, with the commit of its run); call <see cref="Notify"/>
    /// after the commit. One statement for all of them, in order: a post of thousands is one short write, not
    /// thousands, so it holds the writer no longer than other tenants' writes (decision 027).
    /// </summary>
    public void Insert(DbConnection connection, DbTransaction transaction, string tenantId, string queue, IEnumerable<string> bodies)
    {
        const string sql = """
            INSERT INTO queue_messages (tenant_id, queue, body, created_at)
            SELECT @tenantId, @queue, value ->> 0, @now FROM json_each(CAST(@bodies AS TEXT)) ORDER BY key
            """;
        const string postgres = """
            INSERT INTO queue_messages (tenant_id, queue, body, created_at)
            SELECT @tenantId, @queue, body ->> 0, @now
            FROM jsonb_array_elements(CAST(convert_from(@bodies, 'UTF8') AS jsonb)) WITH ORDINALITY AS message (body, position)
            ORDER BY position
            """;
        var rows = JsonRows.Write(bodies, static (row, body) => row.Text(body));
        connection.Prepared(connection.Dialect() == SqlDialect.Postgres ? postgres : sql, transaction)
            .With("@tenantId", tenantId).With("@queue", queue).With("@bodies", rows).With("@now", time.GetUtcNow().ToUnixTimeMilliseconds())
            .ExecuteNonQuery();
    }

    /// <summary>Wakes the pump: messages were committed.</summary>
    public void Notify() => _posted.Release();

    /// <summary>Waits until messages are posted or the interval passes.</summary>
    public Task WaitForMessagesAsync(TimeSpan interval, CancellationToken cancellationToken) =>
        _posted.WaitAsync(_deferred ? TimeSpan.FromMilliseconds(10) : interval, cancellationToken);

    /// <summary>
    /// Turns up to <paramref name="max"/> messages into runs, shared among the tenants that have messages,
    /// and only as many of a tenant's as it has room for on this node: the rest stay in the table (its
    /// backlog, counted as pending work) so another tenant's message is never queued behind them.
    /// </summary>
    /// <returns>How many messages were taken.</returns>
    public async Task<int> PumpAsync(int max, CancellationToken cancellationToken)
    {
        // The tenants with messages, one index seek each (a skip scan), not a walk over a flood's every message.
        const string tenantsSql = """
            WITH RECURSIVE tenants (tenant_id) AS (
                SELECT MIN(tenant_id) FROM queue_messages
                UNION ALL
                SELECT (SELECT MIN(tenant_id) FROM queue_messages WHERE tenant_id > tenants.tenant_id) FROM tenants WHERE tenants.tenant_id IS NOT NULL)
            SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL
            """;
        const string sql = """
            SELECT id, tenant_id, queue, body FROM queue_messages WHERE tenant_id = @tenantId ORDER BY id LIMIT @take
            """;
        var messages = new List<QueueMessageRow>();
        var deferred = false;
        using (var connection = database.OpenConnection())
        {
            var tenants = connection.Query<string>(tenantsSql).AsList();
            var share = Math.Max(1, max / Math.Max(1, tenants.Count));
            foreach (var tenantId in tenants)
            {
                var take = Math.Min(share, dispatcher.RoomFor(tenantId));
                deferred |= take < share;
                if (take > 0)
                {
                    messages.AddRange(connection.Query<QueueMessageRow>(sql, new { tenantId, take }));
                }
            }
        }
        _deferred = deferred;
        if (messages.Count == 0)
        {
            return 0;
        }
        var newRuns = new List<(long MessageId, NewRun Run)>();
        foreach (var group in messages.GroupBy(m => (m.TenantId, m.Queue)))
        {
            var listeners = pipelines.ListByQueue(group.Key.TenantId, group.Key.Queue);
            foreach (var message in group)
            {
                using var body = JsonDocument.Parse(message.Body);
                foreach (var pipeline in listeners)
                {
                    newRuns.Add((message.Id, await starter.PrepareAsync(message.TenantId, pipeline, body.RootElement, TriggerTypes.Queue, cancellationToken, admitted: true)));
                }
            }
        }
        var runsOf = newRuns.ToLookup(r => r.MessageId, r => r.Run);
        // One short write per few messages of a tenant, so the pump's writes take their tenant's turns at the
        // writer rather than holding it for a whole batch (decision 027).
        await Task.WhenAll(messages.GroupBy(m => m.TenantId).SelectMany(tenant => tenant.Chunk(PumpWriteSize)).Select(async chunk =>
        {
            var items = await database.WriteAsync(chunk[0].TenantId, (connection, transaction) =>
            {
                // Another node pumping the same table (PostgreSQL) may have taken a message meanwhile: only
                // the node whose delete removed it starts its runs.
                const string delete = "DELETE FROM queue_messages WHERE id = @Id";
                var taken = chunk.Where(m => connection.Prepared(delete, transaction).With("@Id", m.Id).ExecuteNonQuery() == 1).ToList();
                return runs.Create(connection, transaction, [.. taken.SelectMany(m => runsOf[m.Id])]).Items;
            }, cancellationToken);
            dispatcher.Dispatch(items);
        }));
        LogPumped(logger, messages.Count, newRuns.Count);
        return messages.Count;
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Pumped {Messages} queue messages into {Runs} runs")]
    private static partial void LogPumped(ILogger logger, int messages, int runs);
}
