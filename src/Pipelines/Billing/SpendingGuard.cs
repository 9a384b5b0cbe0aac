using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Saas.Pipelines.Metering;

namespace Saas.Pipelines.Billing;

/// <summary>Why new work is refused: a spending cap reached, a suspension or an unpaid invoice (answered 402).</summary>
public sealed class SpendingRefusedException(string message) : Exception(message);

/// <summary>
/// Admits new runs and gateway calls against the tenant's billing state and monthly spending cap, and
/// sends the cap's alerts. Like <see cref="Ai.AiBudgets"/>, totals live in memory per tenant and month,
/// started from the ledger, so a check reads no database: usage of runs is added by the executor as it
/// commits; other usage (the gateway's) is re-read from the ledger every few seconds. Admitting a run
/// reserves one step execution under the same lock as the check, so concurrent runs cannot all slip
/// under the cap together; a run already admitted finishes (decision 019).
/// </summary>
public sealed partial class SpendingGuard(
    UsageLedger ledger, PlanStore plans, TenantBillingStore billing, Tenancy.MemberStore members, Mail.IEmailSender mail, TimeProvider time, ILogger<SpendingGuard> logger)
{
    private static readonly TimeSpan OtherUsageRefresh = TimeSpan.FromSeconds(2);

    /// <summary>A reservation whose run never committed a step (it failed first) is forgotten after this.</summary>
    private static readonly TimeSpan HoldLifetime = TimeSpan.FromMinutes(10);

    private readonly ConcurrentDictionary<(string Tenant, string Month), Account> _accounts = new();

    /// <summary>Admits a new run, reserving its first step execution; throws with the reason when refused.</summary>
    public void AdmitRun(string tenantId, string runId)
    {
        if (Refusal(tenantId, runId) is { } refusal)
        {
            throw new SpendingRefusedException(refusal);
        }
    }

    /// <returns>Why new work that reserves nothing (a gateway call, a queue message) must be refused, or null.</returns>
    public string? NewWorkRefusal(string tenantId) => Refusal(tenantId, null);

    /// <summary>Called after a commit of a run's steps: adds their usage to the running total (no database access).</summary>
    public void Committed(string tenantId, string runId, IEnumerable<UsageQuantity> usage)
    {
        var now = time.GetUtcNow();
        if (!_accounts.TryGetValue((tenantId, Month(now)), out var account))
        {
            return;
        }
        account.Add(runId, usage, now);
        CheckAlerts(account, billing.Get(tenantId), now);
    }

    /// <summary>Spent this month (usage charges, without the base fee) as the guard counts it, with the run reservations; null without a cap.</summary>
    public decimal? CountedUsd(string tenantId)
    {
        var now = time.GetUtcNow();
        var settings = billing.Get(tenantId);
        return settings.CapUsd is null ? null : AccountFor(tenantId, now).AmountUsd(PricesOf(settings, now), now);
    }

    private string? Refusal(string tenantId, string? runId)
    {
        var now = time.GetUtcNow();
        var settings = billing.Get(tenantId);
        if (settings.Refusal(now) is { } refused)
        {
            return refused;
        }
        if (settings.CapUsd is not { } cap)
        {
            return null;
        }
        var account = AccountFor(tenantId, now);
        var prices = PricesOf(settings, now);
        if (account.TryAdmit(runId, prices, cap, now, out var spent))
        {
            CheckAlerts(account, settings, now);
            return null;
        }
        CheckAlerts(account, settings, now);
        return $"The monthly spending cap of ${Usd(cap)} is reached: ${Usd(spent)} of usage this month (UTC). New runs and gateway calls are refused until the cap is raised; "
            + "work already running finishes. A tenant admin can raise it with PUT /api/v1/billing/cap.";
    }

    private Account AccountFor(string tenantId, DateTimeOffset now)
    {
        var month = Month(now);
        var account = _accounts.GetOrAdd((tenantId, month), key =>
        {
            var start = Pricing.MonthStart(now);
            return new Account(key.Tenant, month, ledger.Quantities(key.Tenant, start, start.AddMonths(1), ofRuns: true));
        });
        if (account.OtherUsageReadAt + OtherUsageRefresh < now)
        {
            var start = Pricing.MonthStart(now);
            account.SetOtherUsage(ledger.Quantities(tenantId, start, start.AddMonths(1), ofRuns: false), now);
        }
        return account;
    }

    private PlanPrices PricesOf(TenantBilling settings, DateTimeOffset now) =>
        Pricing.PricesFor(settings.PlanId is { } planId ? plans.Find(planId) : null, Pricing.MonthStart(now));

    private void CheckAlerts(Account account, TenantBilling settings, DateTimeOffset now)
    {
        if (settings.CapUsd is not { } cap || cap <= 0)
        {
            return;
        }
        var spent = account.AmountUsd(PricesOf(settings, now), now);
        foreach (var threshold in settings.AlertThresholds.Order())
        {
            if (spent * 100 >= cap * threshold && account.MarkAlerted(threshold))
            {
                _ = SendAlertAsync(settings, account.Month, threshold, spent, cap);
            }
        }
    }

    /// <summary>Once per threshold and month: the database row decides, so a restart never alerts twice.</summary>
    private async Task SendAlertAsync(TenantBilling settings, string month, int threshold, decimal spent, decimal cap)
    {
        try
        {
            if (!await billing.RecordAlertAsync(settings.TenantId, month, threshold, spent, cap, CancellationToken.None))
            {
                return;
            }
            var what = threshold >= 100 ? "has reached its monthly spending cap" : $"has used {threshold} % of its monthly spending cap";
            var recipients = AlertRecipients(settings.TenantId);
            if (recipients.Count == 0)
            {
                LogNoRecipients(logger, settings.TenantId, threshold);
            }
            foreach (var to in recipients)
            {
                await mail.SendAsync(new Mail.EmailMessage(to,
                    $"Flowgate: tenant {settings.TenantId} {what}",
                    $"""
                    Usage this month ({month}, UTC): ${Usd(spent)} of the ${Usd(cap)} monthly cap ({threshold} % threshold).
                    {(threshold >= 100 ? "New runs and gateway calls are refused until the cap is raised; work already running finishes." : "At 100 % new runs and gateway calls are refused.")}
                    Raise the cap on the portal's Billing page or with PUT /api/v1/billing/cap; see GET /api/v1/billing for the details.
                    """), CancellationToken.None);
            }
        }
        catch (Exception error)
        {
            LogAlertFailed(logger, settings.TenantId, threshold, error);
        }
    }

    private sealed record MonthName(long Start, string Name);

    private MonthName _month = new(0, "");

    /// <summary>The month's name, formatted once per month rather than on every commit.</summary>
    private string Month(DateTimeOffset at)
    {
        var start = Pricing.MonthStart(at).UtcTicks;
        var cached = _month;
        if (cached.Start == start)
        {
            return cached.Name;
        }
        var name = at.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        _month = new MonthName(start, name);
        return name;
    }

    private static string Usd(decimal usd) => usd.ToString("0.00##", CultureInfo.InvariantCulture);

    /// <summary>The tenant's billing contacts; without any, its owners and admins.</summary>
    private IReadOnlyList<string> AlertRecipients(string tenantId) =>
        billing.Contacts(tenantId) is { Count: > 0 } contacts
            ? contacts
            : members.List(tenantId).Where(m => Tenancy.MemberRoles.Includes(m.Role, Tenancy.MemberRoles.Admin)).Select(m => m.Email).ToList();

    [LoggerMessage(Level = LogLevel.Warning, Message = "Spending alert of tenant {TenantId} at {Threshold} % has no recipient: the tenant has no billing contacts, owners or admins")]
    private static partial void LogNoRecipients(ILogger logger, string tenantId, int threshold);

    [LoggerMessage(Level = LogLevel.Error, Message = "Spending alert of tenant {TenantId} at {Threshold} % could not be sent")]
    private static partial void LogAlertFailed(ILogger logger, string tenantId, int threshold, Exception error);

    private sealed class Account(string tenantId, string month, IEnumerable<UsageQuantity> runUsage)
    {
        private readonly Dictionary<(string Meter, string? Model), long> _runUsage = runUsage.ToDictionary(u => (u.Meter, u.Model), u => u.Quantity);
        private readonly Dictionary<string, DateTimeOffset> _holds = new(StringComparer.Ordinal);
        private IReadOnlyList<UsageQuantity> _otherUsage = [];
        private int _alertedUpTo;

        public string TenantId { get; } = tenantId;

        public string Month { get; } = month;

        public DateTimeOffset OtherUsageReadAt { get; private set; } = DateTimeOffset.MinValue;

        public void SetOtherUsage(IReadOnlyList<UsageQuantity> usage, DateTimeOffset now)
        {
            lock (this)
            {
                _otherUsage = usage;
                OtherUsageReadAt = now;
            }
        }

        /// <summary>The check and the reservation under one lock: what makes concurrent admissions safe.</summary>
        public bool TryAdmit(string? runId, PlanPrices prices, decimal cap, DateTimeOffset now, out decimal spent)
        {
            lock (this)
            {
                spent = AmountUsd(prices, now);
                if (spent >= cap)
                {
                    return false;
                }
                if (runId is not null)
                {
                    _holds[runId] = now + HoldLifetime;
                }
                return true;
            }
        }

        public void Add(string runId, IEnumerable<UsageQuantity> usage, DateTimeOffset now)
        {
            lock (this)
            {
                _holds.Remove(runId);
                foreach (var item in usage)
                {
                    _runUsage[(item.Meter, item.Model)] = _runUsage.GetValueOrDefault((item.Meter, item.Model)) + item.Quantity;
                }
            }
        }

        /// <summary>Usage charges (no base fee) of what is committed, plus one step execution per run admitted and not yet committed.</summary>
        public decimal AmountUsd(PlanPrices prices, DateTimeOffset now)
        {
            lock (this)
            {
                if (_holds.Count > 0)
                {
                    foreach (var expired in _holds.Where(h => h.Value < now).Select(h => h.Key).ToList())
                    {
                        _holds.Remove(expired);
                    }
                }
                var usage = _runUsage.Select(u => new UsageQuantity(u.Key.Meter, u.Key.Model, u.Value))
                    .Concat(_otherUsage)
                    .Append(new UsageQuantity(Meters.StepExecutions, null, _holds.Count));
                return prices.PriceUsage(usage).Sum(l => l.AmountUsd);
            }
        }

        public bool MarkAlerted(int threshold)
        {
            lock (this)
            {
                if (threshold <= _alertedUpTo)
                {
                    return false;
                }
                _alertedUpTo = threshold;
                return true;
            }
        }
    }
}
