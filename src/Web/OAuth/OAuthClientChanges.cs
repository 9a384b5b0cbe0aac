using Saas.Pipelines.Audit;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Tenancy;
using Saas.Web.Ai;

namespace Saas.Web.OAuth;

/// <summary>Validates, creates and revokes OAuth clients with their audit entries: the one place the API and the portal page go through.</summary>
public sealed class OAuthClientChanges(OAuthClientStore clients, AuditLog audit)
{
    public async Task<Checked<IssuedOAuthClient>> CreateAsync(string tenantId, AuditActor actor, OAuthClientRequest request, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (string.IsNullOrWhiteSpace(request.Name) || request.Name.Length > 100)
        {
            errors.Add(new("name", "is required: 1-100 characters that tell the app apart, e.g. \"crm-sync\""));
        }
        var scopes = request.Scopes ?? [];
        if (scopes.Count == 0)
        {
            errors.Add(new("scopes", $"must list at least one of {string.Join(", ", Scopes.All)}"));
        }
        foreach (var unknown in scopes.Except(Scopes.All))
        {
            errors.Add(new("scopes", $"'{unknown}' is not a scope; use {string.Join(", ", Scopes.All)}"));
        }
        if (errors.Count > 0)
        {
            return Checked<IssuedOAuthClient>.Invalid(errors);
        }
        var issued = await clients.CreateAsync(tenantId, request.Name!.Trim(), scopes.Distinct().ToList(), cancellationToken);
        await audit.AppendAsync(tenantId, actor, "oauth_client.created", "oauth_client", issued.Client.ClientId, new { issued.Client.Name, issued.Client.Scopes }, cancellationToken);
        return new(issued, []);
    }

    /// <returns>false when the tenant has no such client.</returns>
    public async Task<bool> RevokeAsync(string tenantId, AuditActor actor, string clientId, CancellationToken cancellationToken)
    {
        if (!await clients.RevokeAsync(tenantId, clientId, cancellationToken))
        {
            return false;
        }
        await audit.AppendAsync(tenantId, actor, "oauth_client.revoked", "oauth_client", clientId, null, cancellationToken);
        return true;
    }
}
