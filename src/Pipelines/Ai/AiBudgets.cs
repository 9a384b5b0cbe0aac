using System.Collections.Concurrent;
using System.Globalization;

namespace Saas.Pipelines.Ai;

/// <summary>A model call's share of a budget, held from the check before the call until its real cost is known.</summary>
public sealed class BudgetHold
{
    private readonly List<(AiBudgets.Account Account, decimal Amount)> _holds;

    internal BudgetHold(List<(AiBudgets.Account, decimal)> holds) => _holds = holds;

    public static BudgetHold None { get; } = new([]);

    /// <summary>Replaces the estimate by what the call cost (zero when it failed).</summary>
    public void Settle(decimal actualUsd)
    {
        if (_holds.Count == 0)
        {
            return;
        }
        foreach (var (account, amount) in _holds)
        {
            account.Settle(amount, actualUsd);
        }
        _holds.Clear();
    }
}

/// <summary>
/// Monthly AI budgets in USD, per tenant and per API key: a call is refused before it is made when
/// what was spent this month, plus what calls in flight hold, plus this call's estimate would pass the
/// budget; afterwards the estimate is replaced by the provider's real figures. Totals start from the
/// request log and are kept in memory, so the check costs no database read; each node counts its own
/// calls from then on (with several web nodes a budget may be passed by what the others spend meanwhile).
/// </summary>
public sealed class AiBudgets(AiRequestLog log, AiGatewaySettingsStore settings, TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Tenant, string? Key, string Month), Account> _accounts = new();

    /// <returns>The hold, or null with the reason when a budget would be passed.</returns>
    public BudgetHold? TryHold(string tenantId, string? keyId, decimal estimateUsd, out string? refusal)
    {
        refusal = null;
        var budget = settings.Get(tenantId);
        var scopes = new List<(string? Key, decimal Limit, string Who)>(2);
        if (budget.MonthlyBudgetUsd is { } tenantLimit)
        {
            scopes.Add((null, tenantLimit, "the tenant's monthly AI budget (monthlyBudgetUsd)"));
        }
        if (keyId is not null && budget.MonthlyBudgetPerKeyUsd is { } keyLimit)
        {
            scopes.Add((keyId, keyLimit, "this API key's monthly AI budget (monthlyBudgetPerKeyUsd)"));
        }
        if (scopes.Count == 0)
        {
            return BudgetHold.None;
        }
        var now = time.GetUtcNow();
        var month = now.ToString("yyyy-MM", CultureInfo.InvariantCulture);
        var monthStart = new DateTimeOffset(now.Year, now.Month, 1, 0, 0, 0, TimeSpan.Zero).ToUnixTimeMilliseconds();
        var holds = new List<(Account, decimal)>();
        foreach (var (key, usd, who) in scopes)
        {
            var account = _accounts.GetOrAdd((tenantId, key, month), _ => new Account(log.SpentSince(tenantId, key, monthStart)));
            if (!account.TryHold(estimateUsd, usd, out var spent))
            {
                foreach (var (held, amount) in holds)
                {
                    held.Settle(amount, 0);
                }
                refusal = $"{who} of ${usd.ToString("0.00", CultureInfo.InvariantCulture)} is used up: ${spent.ToString("0.0000", CultureInfo.InvariantCulture)} spent or in flight this month (UTC)"
                    + (estimateUsd > 0 ? $", and this request is estimated at ${estimateUsd.ToString("0.0000", CultureInfo.InvariantCulture)}" : "")
                    + ". A tenant admin can raise it with PUT /api/v1/ai/settings.";
                return null;
            }
            holds.Add((account, estimateUsd));
        }
        return new BudgetHold(holds);
    }

    public static decimal Cost(ModelTarget target, long inputTokens, long outputTokens) =>
        (inputTokens * (target.InputPricePerMillion ?? 0) + outputTokens * (target.OutputPricePerMillion ?? 0)) / 1_000_000m;

    internal sealed class Account(decimal spent)
    {
        private decimal _spent = spent;

        public bool TryHold(decimal amount, decimal limit, out decimal spent)
        {
            lock (this)
            {
                spent = _spent;
                if (_spent >= limit || _spent + amount > limit)
                {
                    return false;
                }
                _spent += amount;
                return true;
            }
        }

        public void Settle(decimal held, decimal actual)
        {
            lock (this)
            {
                _spent += actual - held;
            }
        }
    }
}
