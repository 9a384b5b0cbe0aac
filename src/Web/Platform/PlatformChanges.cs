using Saas.Pipelines.Audit;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Web.Ai;

namespace Saas.Web.Platform;

/// <summary>
/// What platform administrators change — plans, price versions, suspensions — checked in one place for
/// <c>/api/platform/v1</c> and the platform pages. Suspensions are written to the tenant's audit log.
/// </summary>
public sealed class PlatformChanges(PlanStore plans, TenantBillingStore billing, AuditLog audit, TimeProvider time)
{
    public const int MaxReasonLength = 500;

    public async Task<Checked<Plan>> CreatePlanAsync(string name, PlanPrices prices, CancellationToken cancellationToken)
    {
        name = name.Trim();
        if (NameError(name.Trim(), null) is { } error)
        {
            return Checked<Plan>.Invalid([error]);
        }
        return new(await plans.CreateAsync(name, "usd", prices, cancellationToken), []);
    }

    public async Task<Checked<Plan>> RenamePlanAsync(string planId, string name, CancellationToken cancellationToken)
    {
        name = name.Trim();
        if (NameError(name.Trim(), planId) is { } error)
        {
            return Checked<Plan>.Invalid([error]);
        }
        await plans.RenameAsync(planId, name, cancellationToken);
        return new(plans.Find(planId), []);
    }

    /// <summary>A new version of the plan's prices from <paramref name="effectiveFrom"/> (default: next month), so months already begun keep their prices (decision 018).</summary>
    public async Task<Checked<Plan>> AddPricesAsync(string planId, PlanPrices prices, DateTimeOffset? effectiveFrom, CancellationToken cancellationToken)
    {
        var now = time.GetUtcNow();
        var from = effectiveFrom ?? Pricing.MonthStart(now).AddMonths(1);
        if (from != Pricing.MonthStart(from) || from < Pricing.MonthStart(now))
        {
            return Checked<Plan>.Invalid([new("effectiveFrom", $"must be the start of a UTC month, this one or later, e.g. \"{Pricing.MonthStart(now).AddMonths(1):yyyy-MM-dd'T'HH:mm:ss'Z'}\"")]);
        }
        return await plans.AddVersionAsync(planId, prices, from, cancellationToken) is { } plan
            ? new(plan, [])
            : Checked<Plan>.Invalid([new("planId", $"no plan '{planId}' exists")]);
    }

    /// <returns>Null when there is no such tenant.</returns>
    public async Task<Checked<TenantBilling>?> SuspendAsync(string tenantId, AuditActor actor, string? reason, CancellationToken cancellationToken)
    {
        reason = reason?.Trim();
        if (string.IsNullOrEmpty(reason) || reason.Length > MaxReasonLength)
        {
            return Checked<TenantBilling>.Invalid([new("reason", $"must be 1 to {MaxReasonLength} characters: the tenant sees it in every refusal")]);
        }
        if (!await billing.SetSuspensionAsync(tenantId, reason, cancellationToken))
        {
            return null;
        }
        await audit.AppendAsync(tenantId, actor, "billing.suspended", "tenant", tenantId, new { reason }, cancellationToken);
        return new(billing.Get(tenantId), []);
    }

    /// <returns>False when there is no such tenant.</returns>
    public async Task<bool> ResumeAsync(string tenantId, AuditActor actor, CancellationToken cancellationToken)
    {
        if (!await billing.SetSuspensionAsync(tenantId, null, cancellationToken))
        {
            return false;
        }
        await audit.AppendAsync(tenantId, actor, "billing.resumed", "tenant", tenantId, null, cancellationToken);
        return true;
    }

    /// <summary>Puts the tenant on the plan; errors name the unknown plan.</summary>
    /// <returns>Null when there is no such tenant.</returns>
    public async Task<Checked<TenantBilling>?> AssignPlanAsync(string tenantId, AuditActor actor, string planId, CancellationToken cancellationToken)
    {
        if (!billing.TenantExists(tenantId))
        {
            return null;
        }
        if (plans.Find(planId) is null)
        {
            return Checked<TenantBilling>.Invalid([new("planId", $"no plan '{planId}' exists; list them with GET /api/platform/v1/plans")]);
        }
        await billing.AssignPlanAsync(tenantId, planId, cancellationToken);
        await audit.AppendAsync(tenantId, actor, "billing.plan_assigned", "tenant", tenantId, new { planId }, cancellationToken);
        return new(billing.Get(tenantId), []);
    }

    /// <summary>What is wrong with a plan's name (length, taken by another plan), or null.</summary>
    public DefinitionError? NameError(string name, string? planId)
    {
        if (name.Length is 0 or > 100)
        {
            return new("name", "must be a string of 1 to 100 characters");
        }
        return plans.FindByName(name) is { } other && other.Id != planId
            ? new("name", $"a plan named '{name}' exists already; choose another name")
            : null;
    }
}
