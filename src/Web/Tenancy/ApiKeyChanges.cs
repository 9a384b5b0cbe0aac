using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Tenancy;
using Saas.Web.Ai;

namespace Saas.Web.Tenancy;

/// <summary>Validates, creates and revokes API keys with their audit entries: the one place the API and the portal page go through.</summary>
public sealed class ApiKeyChanges(TenantStore tenants, AuditLog audit)
{
    /// <param name="scopes">null: full access (every scope and tenant administration).</param>
    public async Task<Checked<IssuedApiKey>> CreateAsync(string tenantId, AuditActor actor, string? name, IReadOnlyList<string>? scopes, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        name = name?.Trim();
        if (string.IsNullOrEmpty(name) || name.Length > 100)
        {
            errors.Add(new("name", "is required: 1-100 characters that say which app uses the key, e.g. \"billing-export\""));
        }
        if (scopes is { Count: 0 })
        {
            errors.Add(new("scopes", $"must list at least one of {string.Join(", ", Scopes.All)}, or be left out for a full-access key"));
        }
        foreach (var unknown in (scopes ?? []).Except(Scopes.All))
        {
            errors.Add(new("scopes", $"'{unknown}' is not a scope; use {string.Join(", ", Scopes.All)}"));
        }
        if (errors.Count > 0)
        {
            return Checked<IssuedApiKey>.Invalid(errors);
        }
        var issued = await tenants.CreateApiKeyAsync(tenantId, name!, scopes?.Distinct().ToList(), cancellationToken);
        await audit.AppendAsync(tenantId, actor, "api_key.created", "api_key", issued.Id, new { issued.Name, issued.Prefix, scopes = issued.Scopes ?? ["*"] }, cancellationToken);
        return new(issued, []);
    }

    /// <returns>false when the tenant has no such active key.</returns>
    public async Task<bool> RevokeAsync(string tenantId, AuditActor actor, string keyId, CancellationToken cancellationToken)
    {
        if (!await tenants.RevokeApiKeyAsync(tenantId, keyId, cancellationToken))
        {
            return false;
        }
        await audit.AppendAsync(tenantId, actor, "api_key.revoked", "api_key", keyId, null, cancellationToken);
        return true;
    }
}
