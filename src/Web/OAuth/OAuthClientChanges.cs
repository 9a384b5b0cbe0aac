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
        var type = request.Type ?? OAuthClientTypes.Confidential;
        if (!OAuthClientTypes.All.Contains(type))
        {
            errors.Add(new("type", $"'{type}' is not a client type; use \"confidential\" (a server that keeps a secret) or \"public\" (a browser or native app, PKCE only)"));
        }
        var redirectUris = (request.RedirectUris ?? []).Select(u => u.Trim()).Distinct(StringComparer.Ordinal).ToList();
        if (type == OAuthClientTypes.Public && redirectUris.Count == 0)
        {
            errors.Add(new("redirectUris", "a public client signs users in with the authorization code flow, so it needs at least one redirect URI"));
        }
        if (redirectUris.Count > 10)
        {
            errors.Add(new("redirectUris", "at most 10 redirect URIs"));
        }
        for (var i = 0; i < redirectUris.Count; i++)
        {
            if (RedirectUriProblem(redirectUris[i]) is { } problem)
            {
                errors.Add(new($"redirectUris[{i}]", problem));
            }
        }
        if (errors.Count > 0)
        {
            return Checked<IssuedOAuthClient>.Invalid(errors);
        }
        var issued = await clients.CreateAsync(tenantId, request.Name!.Trim(), scopes.Distinct().ToList(), type, redirectUris, cancellationToken);
        await audit.AppendAsync(tenantId, actor, "oauth_client.created", "oauth_client", issued.Client.ClientId,
            new { issued.Client.Name, issued.Client.Scopes, issued.Client.Type, issued.Client.RedirectUris }, cancellationToken);
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

    /// <summary>
    /// https anywhere; http only to this machine (a native app's loopback listener, RFC 8252 7.3); a
    /// private-use scheme such as <c>com.example.app:/callback</c> (RFC 8252 7.1). Never a fragment.
    /// </summary>
    private static string? RedirectUriProblem(string uri)
    {
        if (uri.Length is 0 or > 2000 || !Uri.TryCreate(uri, UriKind.Absolute, out var parsed))
        {
            return $"'{uri}' is not an absolute URI; give the full address the app receives the code at, e.g. https://app.example.com/callback";
        }
        if (parsed.Fragment.Length > 0 || uri.Contains('#'))
        {
            return $"'{uri}' has a fragment (#...); redirect URIs may not";
        }
        return parsed.Scheme switch
        {
            "https" => null,
            "http" when parsed.IsLoopback => null,
            "http" => $"'{uri}' uses http to another machine; use https (http is accepted for 127.0.0.1, [::1] and localhost only)",
            var scheme when scheme.Contains('.') => null,
            _ => $"'{uri}' uses the scheme '{parsed.Scheme}'; use https, http on loopback, or a reverse-domain scheme of your app (com.example.app:/callback)",
        };
    }
}
