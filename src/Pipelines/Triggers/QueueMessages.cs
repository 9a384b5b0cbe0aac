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

    /// <summary>
    /// Messages per write of a post: a post of 1,000 written at once held the writer for 3-4 ms under load, and every
    /// other tenant's write waited behind it (decision 027).
    /// </summary>
    private const int PostChunkSize = 100;

    /// <summary>A post still unfinished after this long was abandoned by a crash: the pump's sweep deletes it.</summary>
    private static readonly TimeSpan AbandonedAfter = TimeSpan.FromMinutes(10);

    private long _nextSweep;

    /// <exception cref="Limits.NewWorkRefusedException">The messages would take the tenant past its pending work or new work limits: none is stored.</exception>
    public async Task<int> PostAsync(string tenantId, string queue, IReadOnlyList<JsonElement> messages, CancellationToken cancellationToken)
    {
        await pending.AdmitAsync(tenantId, messages.Count, cancellationToken);
        var bodies = messages.Select(m => m.GetRawText()).ToList();
        if (bodies.Count <= PostChunkSize)
        {
            await database.WriteAsync(tenantId, (connection, transaction) => Insert(connection, transaction, tenantId, queue, bodies), cancellationToken);
        }
        else
        {
            await PostInChunksAsync(tenantId, queue, bodies, cancellationToken);
        }
        Notify();
        return pipelines.ListByQueue(tenantId, queue).Count;
    }

    /// <summary>
    /// Writes a large post in chunks, each its own short write. Its messages carry the post's id, and its row in
    /// <c>queue_posts</c> (made with the first chunk, deleted with the last) keeps them from the pump until then. If a
    /// write fails, the chunks written are deleted; after a crash, the pump's sweep deletes them (<see cref="AbandonedAfter"/>).
    /// </summary>
    private async Task PostInChunksAsync(string tenantId, string queue, List<string> bodies, CancellationToken cancellationToken)
    {
        const string start = "INSERT INTO queue_posts (id, tenant_id, started_at) VALUES (@id, @tenantId, @now)";
        const string going = "SELECT COUNT(*) FROM queue_posts WHERE id = @id";
        const string finish = "DELETE FROM queue_posts WHERE id = @id";
        var postId = Ids.New("post");
        var chunks = bodies.Chunk(PostChunkSize).ToList();
        try
        {
            for (var i = 0; i < chunks.Count; i++)
            {
                var (first, last, chunk) = (i == 0, i == chunks.Count - 1, chunks[i]);
                await database.WriteAsync(tenantId, (connection, transaction) =>
                {
                    if (first)
                    {
                        connection.Prepared(start, transaction).With("@id", postId).With("@tenantId", tenantId).With("@now", time.GetUtcNow().ToUnixTimeMilliseconds()).ExecuteNonQuery();
                    }
                    else if (connection.Prepared(going, transaction).With("@id", postId).ScalarInt64() != 1)
                    {
                        // Swept as abandoned: the messages written so far went with it, and these must not appear alone.
                        throw new InvalidOperationException($"The post {postId} took longer than {AbandonedAfter.TotalMinutes:0} minutes and was discarded as abandoned; post again.");
                    }
                    Insert(connection, transaction, tenantId, queue, chunk, postId);
                    if (last)
                    {
                        connection.Prepared(finish, transaction).With("@id", postId).ExecuteNonQuery();
                    }
                }, cancellationToken);
            }
        }
        catch
        {
            await database.WriteAsync(tenantId, (connection, transaction) =>
            {
                connection.Execute("DELETE FROM queue_messages WHERE post_id = @postId", new { postId }, transaction);
                connection.Execute("DELETE FROM queue_posts WHERE id = @postId", new { postId }, transaction);
            }, CancellationToken.None);
            throw;
        }
    }

    /// <summary>Deletes the posts a crash left unfinished (<see cref="AbandonedAfter"/>), with their messages; at most once a minute.</summary>
    private async Task SweepAbandonedPostsAsync(CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow().ToUnixTimeMilliseconds();
        if (now < Interlocked.Read(ref _nextSweep))
        {
            return;
        }
        Interlocked.Exchange(ref _nextSweep, now + 60_000);
        var startedBefore = now - (long)AbandonedAfter.TotalMilliseconds;
        await database.WriteAsync((connection, transaction) =>
        {
            connection.Execute("DELETE FROM queue_messages WHERE post_id IN (SELECT id FROM queue_posts WHERE started_at < @startedBefore)", new { startedBefore }, transaction);
            connection.Execute("DELETE FROM queue_posts WHERE started_at < @startedBefore", new { startedBefore }, transaction);
        }, cancellationToken);
    }

    /// <summary>
    /// Posts messages inside the caller's transaction (a queue sink, with the commit of its run); call <see cref="Notify"/>
    /// after the commit. One statement for all of them, in order: a statement per message made a post of 1,000 five
    /// times longer (decision 027).
    /// </summary>
    /// <param name="postId">The unfinished post these messages belong to (<see cref="PostInChunksAsync"/>); null for messages the pump may take once committed.</param>
    public void Insert(DbConnection connection, DbTransaction transaction, string tenantId, string queue, IEnumerable<string> bodies, string? postId = null)
    {
        const string sql = """
            INSERT INTO queue_messages (tenant_id, queue, body, created_at, post_id)
            SELECT @tenantId, @queue, value ->> 0, @now, @postId FROM json_each(CAST(@bodies AS TEXT)) ORDER BY key
            """;
        const string postgres = """
            INSERT INTO queue_messages (tenant_id, queue, body, created_at, post_id)
            SELECT @tenantId, @queue, body ->> 0, @now, CAST(@postId AS TEXT)
            FROM jsonb_array_elements(CAST(convert_from(@bodies, 'UTF8') AS jsonb)) WITH ORDINALITY AS message (body, position)
            ORDER BY position
            """;
        var rows = JsonRows.Write(bodies, static (row, body) => row.Text(body));
        connection.Prepared(connection.Dialect() == SqlDialect.Postgres ? postgres : sql, transaction)
            .With("@tenantId", tenantId).With("@queue", queue).With("@bodies", rows).With("@now", time.GetUtcNow().ToUnixTimeMilliseconds()).With("@postId", postId)
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
        await SweepAbandonedPostsAsync(cancellationToken);
        // The tenants with messages, one index seek each (a skip scan), not a walk over a flood's every message.
        const string tenantsSql = """
            WITH RECURSIVE tenants (tenant_id) AS (
                SELECT MIN(tenant_id) FROM queue_messages
                UNION ALL
                SELECT (SELECT MIN(tenant_id) FROM queue_messages WHERE tenant_id > tenants.tenant_id) FROM tenants WHERE tenants.tenant_id IS NOT NULL)
            SELECT tenant_id FROM tenants WHERE tenant_id IS NOT NULL
            """;
        const string sql = """
            SELECT id, tenant_id, queue, body FROM queue_messages m
            WHERE tenant_id = @tenantId AND (post_id IS NULL OR NOT EXISTS (SELECT 1 FROM queue_posts p WHERE p.id = m.post_id))
            ORDER BY id LIMIT @take
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
