using System.Threading.Channels;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Metering;
using Saas.Pipelines.Storage;

namespace Saas.Web.Gateway;

/// <summary>
/// Writes the request log entry and usage events of gateway calls in the background, many calls per
/// commit, so a keep-alive connection is free for its next request as soon as its answer is sent.
/// Entries wait in a bounded queue (a full queue makes requests wait: never dropped); a graceful stop
/// writes them all; a crash loses what was not yet written (never bills twice). Readers of usage call
/// <see cref="WrittenAsync"/> first, so a tenant always sees its own finished calls.
/// </summary>
public sealed partial class GatewayMeter(Database database, ILogger<GatewayMeter> logger) : BackgroundService
{
    private const int MaxPerCommit = 2048;

    private static readonly TimeSpan GatherFor = TimeSpan.FromMilliseconds(20);

    private readonly Channel<(AiRequestEntry Entry, TokenUsage? Usage)> _pending = Channel.CreateBounded<(AiRequestEntry, TokenUsage?)>(
        new BoundedChannelOptions(100_000) { SingleReader = true, FullMode = BoundedChannelFullMode.Wait });

    private long _queued;
    private long _written;

    /// <param name="usage">The provider's figures for an answered call; null for a call that failed.</param>
    public ValueTask RecordAsync(AiRequestEntry entry, TokenUsage? usage, CancellationToken cancellationToken)
    {
        Interlocked.Increment(ref _queued);
        return _pending.Writer.WriteAsync((entry, usage), cancellationToken);
    }

    /// <summary>Returns once everything recorded before the call is committed.</summary>
    public async Task WrittenAsync(CancellationToken cancellationToken)
    {
        var target = Volatile.Read(ref _queued);
        while (Volatile.Read(ref _written) < target)
        {
            await Task.Delay(2, cancellationToken);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<(AiRequestEntry Entry, TokenUsage? Usage)>(MaxPerCommit);
        while (await _pending.Reader.WaitToReadAsync(CancellationToken.None))
        {
            Drain(batch);
            if (batch.Count < MaxPerCommit && !stoppingToken.IsCancellationRequested)
            {
                // Calls arriving meanwhile join this commit: the log's and the ledger's newest pages are then written
                // once per many calls, and the commit's fixed cost is shared by them all.
                await Task.Delay(GatherFor, CancellationToken.None);
                Drain(batch);
            }
            await WriteAsync(batch);
            Interlocked.Add(ref _written, batch.Count);
            batch.Clear();
        }
    }

    private void Drain(List<(AiRequestEntry Entry, TokenUsage? Usage)> batch)
    {
        while (batch.Count < MaxPerCommit && _pending.Reader.TryRead(out var item))
        {
            batch.Add(item);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        _pending.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteAsync(List<(AiRequestEntry Entry, TokenUsage? Usage)> batch)
    {
        var entries = batch.ConvertAll(call => call.Entry);
        var usage = batch.SelectMany(call => UsageEvents(call.Entry, call.Usage)).ToList();
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await database.WriteAsync((connection, transaction) =>
                {
                    AiRequestLog.AppendMany(connection, transaction, entries);
                    UsageLedger.AppendMany(connection, transaction, usage);
                });
                return;
            }
            catch (Exception error) when (attempt < 5)
            {
                LogRetry(logger, batch.Count, attempt, error);
                await Task.Delay(TimeSpan.FromMilliseconds(100 * attempt));
            }
            catch (Exception error)
            {
                LogLost(logger, batch.Count, error);
                return;
            }
        }
    }

    /// <summary>An answered call's usage events, keyed by its request id; none for a call that failed.</summary>
    private static IEnumerable<UsageEvent> UsageEvents(AiRequestEntry entry, TokenUsage? usage)
    {
        if (usage is not { } answered)
        {
            yield break;
        }
        yield return new UsageEvent(entry.TenantId, Meters.GatewayRequests, 1, entry.Id, null, null, entry.CreatedAt) { Model = entry.Model };
        if (answered.Input > 0)
        {
            yield return new UsageEvent(entry.TenantId, Meters.LlmInputTokens, answered.Input, entry.Id, null, null, entry.CreatedAt) { Model = entry.Model };
        }
        if (answered.Output > 0)
        {
            yield return new UsageEvent(entry.TenantId, Meters.LlmOutputTokens, answered.Output, entry.Id, null, null, entry.CreatedAt) { Model = entry.Model };
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Writing {Count} gateway calls failed (attempt {Attempt}); retrying")]
    private static partial void LogRetry(ILogger logger, int count, int attempt, Exception error);

    [LoggerMessage(Level = LogLevel.Critical, Message = "{Count} gateway calls could not be written to the ledger and are lost")]
    private static partial void LogLost(ILogger logger, int count, Exception error);
}
