using Saas.Pipelines.Audit;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Web.Ai;

namespace Saas.Web.Billing;

/// <summary>
/// Validates, saves and audits a tenant's spending cap and billing contacts: the one place both
/// <c>/api/v1/billing</c> and the portal's billing page go through.
/// </summary>
public sealed class BillingChanges(TenantBillingStore billing, AuditLog audit)
{
    public const decimal MaxCapUsd = 10_000_000;
    public const int MaxContacts = 10;

    /// <param name="monthlyUsd">Null removes the cap.</param>
    /// <param name="thresholds">Percentages of the cap that alert; null keeps the defaults (50, 80, 100).</param>
    public async Task<Checked<TenantBilling>> SetCapAsync(string tenantId, AuditActor actor, decimal? monthlyUsd, IReadOnlyList<int>? thresholds, CancellationToken cancellationToken)
    {
        thresholds ??= TenantBilling.DefaultThresholds;
        if (CapErrors(monthlyUsd, thresholds) is { Count: > 0 } errors)
        {
            return Checked<TenantBilling>.Invalid(errors);
        }
        var ordered = thresholds.Distinct().Order().ToArray();
        await billing.SetCapAsync(tenantId, monthlyUsd, ordered, cancellationToken);
        await audit.AppendAsync(tenantId, actor, "billing.cap.set", "billing", tenantId, new { monthlyUsd, alertThresholds = ordered }, cancellationToken);
        return new(billing.Get(tenantId), []);
    }

    /// <summary>What is wrong with a cap, each at its field (empty when nothing is).</summary>
    public static List<DefinitionError> CapErrors(decimal? monthlyUsd, IReadOnlyList<int> thresholds)
    {
        var errors = new List<DefinitionError>();
        if (monthlyUsd is < 0 or > MaxCapUsd)
        {
            errors.Add(new("monthlyUsd", "must be a number of USD from 0 to 10,000,000, or null to remove the cap"));
        }
        if (thresholds.Count is 0 or > 10)
        {
            errors.Add(new("alertThresholds", "must be an array of 1 to 10 percentages of the cap, e.g. [50, 80, 100]"));
        }
        for (var i = 0; i < thresholds.Count; i++)
        {
            if (thresholds[i] is < 1 or > 1000)
            {
                errors.Add(new($"alertThresholds[{i}]", "must be a whole percentage of the cap from 1 to 1000"));
            }
        }
        return errors;
    }

    /// <summary>Replaces the addresses spending alerts go to; an empty list sends them to the owners and admins.</summary>
    public async Task<Checked<IReadOnlyList<string>>> SetContactsAsync(string tenantId, AuditActor actor, IReadOnlyList<string> emails, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (emails.Count > MaxContacts)
        {
            errors.Add(new("contacts", $"has {emails.Count} addresses; at most {MaxContacts} are allowed"));
        }
        var contacts = new List<string>();
        for (var i = 0; i < emails.Count; i++)
        {
            var email = emails[i].Trim();
            if (!IsEmail(email))
            {
                errors.Add(new($"contacts[{i}]", $"'{emails[i]}' is not one e-mail address; write it like billing@example.com"));
            }
            else if (contacts.Contains(email, StringComparer.OrdinalIgnoreCase))
            {
                errors.Add(new($"contacts[{i}]", $"'{email}' is listed twice"));
            }
            else
            {
                contacts.Add(email);
            }
        }
        if (errors.Count > 0)
        {
            return Checked<IReadOnlyList<string>>.Invalid(errors);
        }
        await billing.SetContactsAsync(tenantId, contacts, cancellationToken);
        await audit.AppendAsync(tenantId, actor, "billing.contacts.set", "billing", tenantId, new { contacts }, cancellationToken);
        return new(contacts, []);
    }

    private static bool IsEmail(string email) =>
        email.Length is > 0 and <= 254 && !email.Contains('\r') && !email.Contains('\n') && !email.Contains(',')
        && System.Net.Mail.MailAddress.TryCreate(email, out var address) && address.Address == email;
}
