using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.WebUtilities;

namespace Saas.Web.Tests;

/// <summary>
/// Authorization code + PKCE end to end over real Kestrel, with a cookie-carrying client in the browser's
/// place: sign in, authorize, consent, code, token, then the tenant API with that token.
/// </summary>
public sealed class AuthorizationCodeTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    internal const string RedirectUri = "http://127.0.0.1:9/callback";

    internal sealed record Client(string ClientId, string? Secret);

    internal sealed record Pkce(string Verifier, string Challenge)
    {
        public static Pkce New()
        {
            var verifier = WebEncoders.Base64UrlEncode(RandomNumberGenerator.GetBytes(32));
            return new Pkce(verifier, WebEncoders.Base64UrlEncode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
        }
    }

    internal static async Task<Client> CreateClientAsync(TenantClient tenant, string type, params string[] scopes)
    {
        var response = await tenant.Http.PostAsJsonAsync("/api/v1/oauth/clients", new { name = "notebook", scopes, type, redirectUris = new[] { RedirectUri } });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        return new Client(body["clientId"]!.GetValue<string>(), body["clientSecret"]?.GetValue<string>());
    }

    internal static string AuthorizeUrl(Client client, Pkce? pkce, string scope, string state = "st-123", string redirectUri = RedirectUri)
    {
        var query = new Dictionary<string, string?>
        {
            ["response_type"] = "code", ["client_id"] = client.ClientId, ["redirect_uri"] = redirectUri, ["scope"] = scope, ["state"] = state,
        };
        if (pkce is not null)
        {
            query["code_challenge"] = pkce.Challenge;
            query["code_challenge_method"] = "S256";
        }
        return QueryHelpers.AddQueryString("/connect/authorize", query);
    }

    /// <summary>Signed in, asks for authorization and answers the consent page; returns the redirect to the client.</summary>
    internal static async Task<Uri> ConsentAsync(PortalSession member, string authorizeUrl, string decision = "allow")
    {
        var consent = await member.FollowAsync(await member.Http.GetAsync(authorizeUrl));
        var html = await consent.Content.ReadAsStringAsync();
        Assert.True(consent.StatusCode == HttpStatusCode.OK, $"{(int)consent.StatusCode}: {html}");
        var form = PortalSession.HiddenFields(html);
        form.Add(KeyValuePair.Create("decision", decision));
        var answer = await member.Http.PostAsync("/connect/authorize", new FormUrlEncodedContent(form));
        Assert.True(answer.StatusCode == HttpStatusCode.Redirect, $"{(int)answer.StatusCode}: {await answer.Content.ReadAsStringAsync()}");
        var location = answer.Headers.Location!;
        Assert.StartsWith(RedirectUri + "?", location.ToString());
        return location;
    }

    internal static Dictionary<string, string> Query(Uri uri) =>
        QueryHelpers.ParseQuery(uri.Query).ToDictionary(p => p.Key, p => p.Value.ToString());

    private async Task<HttpResponseMessage> RedeemAsync(Client client, string code, string verifier, string redirectUri = RedirectUri)
    {
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = redirectUri, ["client_id"] = client.ClientId, ["code_verifier"] = verifier,
        };
        if (client.Secret is not null)
        {
            form["client_secret"] = client.Secret;
        }
        return await app.Client().PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    private static async Task<string> ErrorOf(HttpResponseMessage response) =>
        JsonNode.Parse(await response.Content.ReadAsStringAsync())!["error"]!.GetValue<string>();

    [Fact]
    public async Task A_member_signs_in_consents_and_the_app_calls_the_api_for_the_members_tenant_with_the_granted_scopes()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.CreatePipelineAsync(new { name = "visible", trigger = new { type = "http" }, steps = new[] { new { id = "s", type = "select", fields = new[] { "x" } } } });
        var client = await CreateClientAsync(tenant, "public", "pipelines:read", "runs:read");
        var member = await PortalSession.CreateMemberAsync(app, tenant.TenantId, "builder");
        var pkce = Pkce.New();
        var authorize = AuthorizeUrl(client, pkce, "pipelines:read");

        var toSignIn = await member.Http.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, toSignIn.StatusCode);
        Assert.Contains("/account/signin", toSignIn.Headers.Location!.ToString());
        var returnUrl = QueryHelpers.ParseQuery(toSignIn.Headers.Location!.Query)["ReturnUrl"].ToString();
        var signedIn = await member.SignInAsync(returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        var consent = await member.FollowAsync(signedIn);
        var html = await consent.Content.ReadAsStringAsync();
        Assert.Contains("notebook", html);
        Assert.Contains("data-scope=\"pipelines:read\"", html);
        Assert.DoesNotContain("data-scope=\"runs:read\"", html);

        var callback = Query(await ConsentAsync(member, authorize));
        Assert.Equal("st-123", callback["state"]);
        var token = await RedeemAsync(client, callback["code"], pkce.Verifier);
        var body = JsonNode.Parse(await token.Content.ReadAsStringAsync())!;
        Assert.True(token.IsSuccessStatusCode, body.ToJsonString());
        Assert.Equal("pipelines:read", body["scope"]?.GetValue<string>());

        var api = app.Client();
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body["access_token"]!.GetValue<string>());
        Assert.Contains("visible", await api.GetStringAsync("/api/v1/pipelines"));
        var runs = await api.GetAsync("/api/v1/runs");
        Assert.Equal(HttpStatusCode.Forbidden, runs.StatusCode);
        Assert.Contains("'runs:read'", await runs.Content.ReadAsStringAsync());

        var audit = await tenant.Http.GetStringAsync("/api/v1/audit?action=oauth.consent_granted");
        Assert.Contains(member.UserId, audit);
        Assert.Contains(client.ClientId, audit);
    }

    [Fact]
    public async Task A_code_works_once_and_only_with_its_verifier_and_its_redirect_uri()
    {
        var tenant = await app.CreateTenantAsync();
        var client = await CreateClientAsync(tenant, "public", "runs:read");
        var member = await PortalSession.SignInAsync(app, tenant.TenantId, "viewer");
        var pkce = Pkce.New();

        var code = Query(await ConsentAsync(member, AuthorizeUrl(client, pkce, "runs:read")))["code"];
        var wrongVerifier = await RedeemAsync(client, code, Pkce.New().Verifier);
        var wrongRedirect = await RedeemAsync(client, code, pkce.Verifier, "http://127.0.0.1:9/other");
        var first = await RedeemAsync(client, code, pkce.Verifier);
        var again = await RedeemAsync(client, code, pkce.Verifier);

        Assert.Equal("invalid_grant", await ErrorOf(wrongVerifier));
        Assert.Equal(HttpStatusCode.BadRequest, wrongRedirect.StatusCode);
        Assert.True(first.IsSuccessStatusCode, await first.Content.ReadAsStringAsync());
        Assert.Equal("invalid_grant", await ErrorOf(again));
        Assert.Contains("once", await again.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_wrong_redirect_uri_or_missing_pkce_is_an_error_page_never_a_redirect()
    {
        var tenant = await app.CreateTenantAsync();
        var client = await CreateClientAsync(tenant, "public", "runs:read");
        var member = await PortalSession.SignInAsync(app, tenant.TenantId, "owner");

        var wrongRedirect = await member.Http.GetAsync(AuthorizeUrl(client, Pkce.New(), "runs:read", redirectUri: "http://127.0.0.1:9/callback/evil"));
        var noPkce = await member.Http.GetAsync(AuthorizeUrl(client, null, "runs:read"));
        var plain = await member.Http.GetAsync(AuthorizeUrl(client, null, "runs:read") + "&code_challenge=abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrs&code_challenge_method=plain");
        var unknownClient = await member.Http.GetAsync(AuthorizeUrl(client with { ClientId = "fgc_nope" }, Pkce.New(), "runs:read"));

        foreach (var (response, says) in new[] { (wrongRedirect, "redirect_uri"), (noPkce, "code_challenge"), (plain, "code_challenge_method"), (unknownClient, "client_id") })
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == (response == unknownClient ? HttpStatusCode.Unauthorized : HttpStatusCode.BadRequest), $"{(int)response.StatusCode} {response.Headers.Location} {body}");
            Assert.Null(response.Headers.Location);
            Assert.Contains(says, body);
        }
    }

    [Fact]
    public async Task Deny_goes_back_to_the_app_with_access_denied_and_its_state()
    {
        var tenant = await app.CreateTenantAsync();
        var client = await CreateClientAsync(tenant, "public", "runs:read");
        var member = await PortalSession.SignInAsync(app, tenant.TenantId, "owner");

        var callback = Query(await ConsentAsync(member, AuthorizeUrl(client, Pkce.New(), "runs:read", state: "keep-me"), decision: "deny"));

        Assert.Equal("access_denied", callback["error"]);
        Assert.Equal("keep-me", callback["state"]);
        Assert.False(callback.ContainsKey("code"));
    }

    [Fact]
    public async Task Another_organisations_client_is_refused_and_a_confidential_client_needs_its_secret()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        var foreign = await CreateClientAsync(a, "public", "runs:read");
        var memberOfB = await PortalSession.SignInAsync(app, b.TenantId, "owner");

        var refused = await memberOfB.Http.GetAsync(AuthorizeUrl(foreign, Pkce.New(), "runs:read"));
        var unknown = await memberOfB.Http.GetAsync(AuthorizeUrl(foreign with { ClientId = "fgc_nope" }, Pkce.New(), "runs:read"));
        Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        Assert.Null(refused.Headers.Location);
        Assert.Equal(await unknown.Content.ReadAsStringAsync(), await refused.Content.ReadAsStringAsync());

        var confidential = await CreateClientAsync(b, "confidential", "runs:read");
        Assert.NotNull(confidential.Secret);
        var pkce = Pkce.New();
        var code = Query(await ConsentAsync(memberOfB, AuthorizeUrl(confidential, pkce, "runs:read")))["code"];
        Assert.Equal("invalid_client", await ErrorOf(await RedeemAsync(confidential with { Secret = "fgs_wrong" }, code, pkce.Verifier)));
        Assert.True((await RedeemAsync(confidential, code, pkce.Verifier)).IsSuccessStatusCode);
    }

    [Fact]
    public async Task Clients_declare_their_type_and_redirect_uris_precisely()
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/api/v1/oauth/clients", new
        {
            name = "bad", scopes = new[] { "runs:read" }, type = "spa", redirectUris = new[] { "http://example.com/cb", "https://ok.example.com/cb#x", "relative/cb" },
        });
        var body = await response.Content.ReadAsStringAsync();
        var discovery = JsonNode.Parse(await app.Client().GetStringAsync("/.well-known/openid-configuration"))!;

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("'spa' is not a client type", body);
        Assert.Contains("redirectUris[0]", body);
        Assert.Contains("redirectUris[1]", body);
        Assert.Contains("redirectUris[2]", body);
        Assert.EndsWith("/connect/authorize", discovery["authorization_endpoint"]!.GetValue<string>());
        Assert.Equal(["S256"], discovery["code_challenge_methods_supported"]!.AsArray().Select(m => m!.GetValue<string>()));
    }
}
