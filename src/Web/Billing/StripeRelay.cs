using Microsoft.Extensions.Options;
using Saas.Pipelines.Billing;

namespace Saas.Web.Billing;

/// <summary>
/// Relays the billing outbox (customers, subscriptions) and the ledger's usage to Stripe. Usage is first summed into
/// meter events (one per tenant, meter, model and minute, <see cref="StripeUsageExport"/>), which are sent oldest first in
/// batches; each batch's accepted events are marked sent in one transaction. A crash between Stripe's answer and that
/// commit re-sends those events after the restart with the same identifier and Idempotency-Key, which Stripe
/// deduplicates: so nothing is sent twice (as Stripe counts) and nothing is dropped. A 429 or 5xx stops the batch and
/// backs off exponentially.
/// </summary>
public sealed partial class StripeRelay(
    StripeBilling stripe, BillingOutbox outbox, StripeUsageExport export, IOptions<BillingOptions> options, TimeProvider time, ILogger<StripeRelay> logger) : BackgroundService
{
    /// <summary>Usage events summed into meter events per transaction: each holds the writer for a few milliseconds at most.</summary>
    private const int UsageEventsPerTransaction = 500;

    private int _failuresInRow;
    private DateTimeOffset _nextReconciliation = DateTimeOffset.MinValue;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!stripe.Enabled)
        {
            return;
        }
        while (!stoppingToken.IsCancellationRequested)
        {
            var delay = TimeSpan.FromMilliseconds(options.Value.RelayIntervalMilliseconds);
            try
            {
                await RelayCommandsAsync(stoppingToken);
                if (!await SendUsageAsync(stoppingToken))
                {
                    delay = Backoff();
                }
                if (time.GetUtcNow() >= _nextReconciliation)
                {
                    _nextReconciliation = time.GetUtcNow().AddMinutes(options.Value.ReconcileIntervalMinutes);
                    var now = time.GetUtcNow();
                    await stripe.ReconcileAsync(export, Pricing.MonthStart(now), StripeBilling.NextMinute(now), stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception error)
            {
                LogRelayFailed(logger, error);
                delay = Backoff();
            }
            try
            {
                await Task.Delay(delay, time, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (stripe.Enabled)
        {
            await outbox.ReleaseAsync(cancellationToken);
        }
    }

    /// <returns>False when Stripe refused or failed, so the relay backs off.</returns>
    private async Task<bool> SendUsageAsync(CancellationToken cancellationToken)
    {
        int summed;
        do
        {
            summed = await export.RecordMeterEventsAsync(UsageEventsPerTransaction, cancellationToken);
        }
        while (summed == UsageEventsPerTransaction && !cancellationToken.IsCancellationRequested);
        while (!cancellationToken.IsCancellationRequested)
        {
            var batch = export.Unsent(options.Value.MeterEventBatchSize);
            if (batch.Count == 0)
            {
                return true;
            }
            var (sent, failure) = await stripe.SendMeterEventsAsync(batch, cancellationToken);
            await export.MarkSentAsync(sent, CancellationToken.None);
            if (failure is not null)
            {
                LogMeterEventsRefused(logger, (int)failure.HttpStatusCode, failure.StripeError?.Type, failure.Message, sent.Count, batch.Count);
                return false;
            }
            _failuresInRow = 0;
        }
        return true;
    }

    private async Task RelayCommandsAsync(CancellationToken cancellationToken)
    {
        foreach (var command in await outbox.ClaimDueAsync(20, cancellationToken))
        {
            try
            {
                switch (command.Kind)
                {
                    case BillingOutbox.CreateCustomer:
                        await stripe.CreateCustomerAsync(command.TenantId, cancellationToken);
                        break;
                    case BillingOutbox.SyncSubscription:
                        await stripe.SyncSubscriptionAsync(command.TenantId, cancellationToken);
                        break;
                }
                await outbox.CompleteAsync(command.Id, CancellationToken.None);
            }
            catch (Exception error) when (!cancellationToken.IsCancellationRequested)
            {
                // Any failure of one command (not only Stripe's answers: a timeout, a broken connection) reschedules
                // it and goes on: a command left claimed would wait out its lease, and so would the rest of the claim.
                var wait = TimeSpan.FromMilliseconds(Math.Min(3_600_000, options.Value.RetryBaseMilliseconds * Math.Pow(2, Math.Min(command.Attempts, 20))));
                await outbox.RetryLaterAsync(command.Id, error.Message, wait, CancellationToken.None);
                LogCommandFailed(logger, command.Kind, command.TenantId, error.Message);
            }
        }
    }

    private TimeSpan Backoff()
    {
        _failuresInRow++;
        return TimeSpan.FromMilliseconds(Math.Min(60_000, options.Value.RetryBaseMilliseconds * Math.Pow(2, Math.Min(_failuresInRow - 1, 16))));
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe relay failed")]
    private static partial void LogRelayFailed(ILogger logger, Exception error);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe answered {Status} ({Type}: {Message}) after {Sent} of {Batch} meter events; backing off")]
    private static partial void LogMeterEventsRefused(ILogger logger, int status, string? type, string message, int sent, int batch);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stripe outbox {Kind} for tenant {TenantId} failed, will retry: {Reason}")]
    private static partial void LogCommandFailed(ILogger logger, string kind, string tenantId, string reason);
}
