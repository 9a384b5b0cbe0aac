using System.Security.Cryptography;
using System.Text;
using Dapper;
using System.Data.Common;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Network;
using Saas.Pipelines.Records;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Storage;
using Saas.Pipelines.Triggers;

namespace Saas.Pipelines.Sinks;

/// <summary>
/// Sends a finished run's records where its sink says: webhook batches (signed, each acknowledged batch
/// remembered so a retried sink sends only the rest), or queue messages (posted in the run's own commit,
/// so exactly once).
/// </summary>
public sealed class SinkDelivery(Database database, GuardedHttpClientFactory network, TenantSecrets secrets, QueueMessages queues, TimeProvider time)
{
    public const string SignatureHeader = "Flowgate-Signature";
    public const string DeliveryHeader = "Flowgate-Delivery";

    /// <summary>Retries within one sink attempt; after them the engine retries the sink with backoff, then dead-letters it.</summary>
    private const int RetriesPerAttempt = 2;

    /// <summary>Delivers the run's output (JSONL). Webhooks are sent now; queue messages are returned to be posted by the commit.</summary>
    /// <returns>Work to do inside the run's commit, or null.</returns>
    public async Task<Action<DbConnection, DbTransaction>?> DeliverAsync(RunRow run, SinkDefinition sink, Func<CancellationToken, Task<Stream>> output, CancellationToken cancellationToken)
    {
        switch (sink.Type)
        {
            case SinkTypes.Webhook:
                await SendWebhookAsync(run, sink, output, cancellationToken);
                return null;
            case SinkTypes.Queue:
                var messages = new List<string>();
                await foreach (var (_, batch) in BatchesAsync(output, sink.BatchSize, cancellationToken))
                {
                    messages.Add(batch);
                }
                return (connection, transaction) => queues.Insert(connection, transaction, run.TenantId, sink.Queue!, messages);
            default:
                return null;
        }
    }

    /// <summary>After the commit that posted queue messages: wake the pump.</summary>
    public void Committed(SinkDefinition sink)
    {
        if (sink.Type == SinkTypes.Queue)
        {
            queues.Notify();
        }
    }

    /// <summary><c>t=&lt;unix seconds&gt;,v1=&lt;hex HMAC-SHA256 of "t.body" keyed with the secret&gt;</c>, as Stripe signs its webhooks.</summary>
    public static string Sign(string secret, long timestamp, ReadOnlySpan<byte> body)
    {
        var prefix = Encoding.UTF8.GetBytes($"{timestamp}.");
        var message = new byte[prefix.Length + body.Length];
        prefix.CopyTo(message, 0);
        body.CopyTo(message.AsSpan(prefix.Length));
        return $"t={timestamp},v1={Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), message))}";
    }

    private async Task SendWebhookAsync(RunRow run, SinkDefinition sink, Func<CancellationToken, Task<Stream>> output, CancellationToken cancellationToken)
    {
        var url = new Uri(sink.Url!);
        var key = secrets.Reveal(run.TenantId, sink.Secret!);
        var delivered = Delivered(run);
        using var client = network.CreateClient();
        var retry = new OutboundRetry(RetriesPerAttempt, TimeSpan.FromSeconds(30), time);
        await foreach (var (batch, json) in BatchesAsync(output, sink.BatchSize, cancellationToken))
        {
            if (delivered.Contains(batch))
            {
                continue;
            }
            var body = Encoding.UTF8.GetBytes(json);
            HttpResponseMessage response;
            try
            {
                response = await retry.SendAsync(client, () =>
                {
                    var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new ByteArrayContent(body) };
                    request.Content.Headers.TryAddWithoutValidation("Content-Type", "application/json");
                    request.Headers.TryAddWithoutValidation(DeliveryHeader, $"{run.Id}/{batch}");
                    request.Headers.TryAddWithoutValidation(SignatureHeader, Sign(key, time.GetUtcNow().ToUnixTimeSeconds(), body));
                    return request;
                }, cancellationToken);
            }
            catch (OutboundCallRefusedException refused)
            {
                throw new RecordException($"webhook {OutboundUrlPolicy.Redacted(url)}: {refused.Message}");
            }
            catch (OutboundCallFailedException failed)
            {
                throw new OutboundCallFailedException($"webhook {OutboundUrlPolicy.Redacted(url)} batch {batch}: {failed.Message}");
            }
            using (response)
            {
                if (!response.IsSuccessStatusCode)
                {
                    throw new OutboundCallFailedException($"webhook {OutboundUrlPolicy.Redacted(url)} batch {batch}: answered {(int)response.StatusCode} {response.ReasonPhrase}".TrimEnd());
                }
            }
            await database.WriteAsync((connection, transaction) =>
            {
                const string sql = """
                    INSERT INTO sink_deliveries (tenant_id, run_id, batch, delivered_at) VALUES (@TenantId, @Id, @batch, @now)
                    ON CONFLICT DO NOTHING
                    """;
                connection.Execute(sql, new { run.TenantId, run.Id, batch, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction);
            }, cancellationToken);
        }
    }

    private HashSet<long> Delivered(RunRow run)
    {
        const string sql = "SELECT batch FROM sink_deliveries WHERE tenant_id = @TenantId AND run_id = @Id";
        using var connection = database.OpenConnection();
        return connection.Query<long>(sql, new { run.TenantId, run.Id }).ToHashSet();
    }

    /// <summary>The JSONL output as JSON arrays of up to <paramref name="size"/> records, numbered from 0.</summary>
    private static async IAsyncEnumerable<(long Batch, string Json)> BatchesAsync(Func<CancellationToken, Task<Stream>> output, int size,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        await using var stream = await output(cancellationToken);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var batch = new StringBuilder("[");
        var count = 0;
        long number = 0;
        while (await reader.ReadLineAsync(cancellationToken) is { } line)
        {
            if (line.Length == 0)
            {
                continue;
            }
            batch.Append(count == 0 ? "" : ",").Append(line);
            if (++count == size)
            {
                yield return (number++, batch.Append(']').ToString());
                batch.Clear().Append('[');
                count = 0;
            }
        }
        if (count > 0)
        {
            yield return (number, batch.Append(']').ToString());
        }
    }
}
