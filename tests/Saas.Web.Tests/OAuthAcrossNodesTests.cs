using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Saas.Pipelines.Tenancy;
using Saas.Tests;
using Code = Saas.Web.Tests.AuthorizationCodeTests;

namespace Saas.Web.Tests;

/// <summary>
/// Two web nodes as in Azure: one PostgreSQL database, one Data Protection key ring blob (Azurite), a data folder each.
/// What one node issues — access tokens, codes, refresh tokens — the other accepts (decision 029).
/// </summary>
public sealed class OAuthAcrossNodesTests : IAsyncLifetime
{
    private readonly PostgresDatabase _database = Postgres.NewDatabase();
    private readonly string _keyRingContainer = Azurite.NewContainerName();
    private Node _first = null!;
    private Node _second = null!;

    private sealed class Node(string[] shared) : FlowgateApp
    {
        protected override string[] ExtraArguments => shared;
    }

    public async Task InitializeAsync()
    {
        string[] shared =
        [
            "--Flowgate:Database:Provider=postgres", $"--ConnectionStrings:Flowgate={_database.ConnectionString}",
            $"--Flowgate:DataProtection:KeyRingBlob={_keyRingContainer}/keyring.xml", $"--ConnectionStrings:Blobs={Azurite.ConnectionString}",
            // The load balancer's address, which both nodes answer for.
            "--Flowgate:OAuth:Issuer=http://flowgate.test/",
        ];
        _first = new Node(shared);
        await _first.InitializeAsync();
        _second = new Node(shared);
        await _second.InitializeAsync();
    }

    [Fact]
    public async Task A_code_from_one_node_is_redeemed_on_the_other_their_tokens_work_on_both_and_a_refresh_token_works_once_and_a_replay_stops_its_chain()
    {
        var tenant = await _first.CreateTenantAsync();
        var client = await Code.CreateClientAsync(tenant, "public", "runs:read");
        var member = await PortalSession.SignInAsync(_first, tenant.TenantId, "viewer");
        var pkce = Code.Pkce.New();

        var code = Code.Query(await Code.ConsentAsync(member, Code.AuthorizeUrl(client, pkce, "runs:read offline_access")))["code"];
        var issued = await TokenAsync(_second, new() { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Code.RedirectUri, ["code_verifier"] = pkce.Verifier }, client);

        Assert.Equal(HttpStatusCode.OK, await RunsAsync(_first, issued["access_token"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.OK, await RunsAsync(_second, issued["access_token"]!.GetValue<string>()));
        var firstRefresh = issued["refresh_token"]!.GetValue<string>();
        var refreshed = await TokenAsync(_first, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = firstRefresh }, client);
        Assert.Equal(HttpStatusCode.OK, await RunsAsync(_second, refreshed["access_token"]!.GetValue<string>()));
        Assert.Contains("runs:read", refreshed["scope"]!.GetValue<string>());
        var secondRefresh = refreshed["refresh_token"]!.GetValue<string>();
        Assert.NotEqual(firstRefresh, secondRefresh);

        var reused = await TokenAsync(_second, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = firstRefresh }, client, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_grant", reused["error"]!.GetValue<string>());
        Assert.Contains("already used", reused["error_description"]!.GetValue<string>());
        // A spent token again means the chain leaked: the newest refresh token stops too.
        var chain = await TokenAsync(_first, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = secondRefresh }, client, HttpStatusCode.BadRequest);
        Assert.Contains("revoked", chain["error_description"]!.GetValue<string>());
        // So do the access tokens of the chain, on either node, without waiting for them to expire.
        Assert.Equal(HttpStatusCode.Unauthorized, await RunsAsync(_second, refreshed["access_token"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Unauthorized, await RunsAsync(_first, issued["access_token"]!.GetValue<string>()));

        // The member leaves: the app's refresh token (and so its access) goes with them.
        var again = Code.Pkce.New();
        var code2 = Code.Query(await Code.ConsentAsync(member, Code.AuthorizeUrl(client, again, "runs:read offline_access")))["code"];
        var second = await TokenAsync(_first, new() { ["grant_type"] = "authorization_code", ["code"] = code2, ["redirect_uri"] = Code.RedirectUri, ["code_verifier"] = again.Verifier }, client);
        await _second.Services.GetRequiredService<MemberStore>().RemoveAsync(tenant.TenantId, member.UserId, CancellationToken.None);
        var removed = await TokenAsync(_second, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = second["refresh_token"]!.GetValue<string>() }, client, HttpStatusCode.BadRequest);
        Assert.Equal("invalid_grant", removed["error"]!.GetValue<string>());
        Assert.Contains("no longer belongs", removed["error_description"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, await RunsAsync(_first, second["access_token"]!.GetValue<string>()));
    }

    [Fact]
    public async Task A_revoked_client_cannot_refresh_and_a_token_signed_by_one_node_validates_on_the_other()
    {
        var tenant = await _first.CreateTenantAsync();
        var client = await Code.CreateClientAsync(tenant, "confidential", "runs:read");
        var member = await PortalSession.SignInAsync(_second, tenant.TenantId, "owner");
        var pkce = Code.Pkce.New();
        var code = Code.Query(await Code.ConsentAsync(member, Code.AuthorizeUrl(client, pkce, "runs:read offline_access")))["code"];
        var issued = await TokenAsync(_first, new() { ["grant_type"] = "authorization_code", ["code"] = code, ["redirect_uri"] = Code.RedirectUri, ["code_verifier"] = pkce.Verifier }, client);
        var appToken = await TokenAsync(_second, new() { ["grant_type"] = "client_credentials", ["scope"] = "runs:read" }, client);
        Assert.Equal(HttpStatusCode.OK, await RunsAsync(_first, appToken["access_token"]!.GetValue<string>()));

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync($"/api/v1/oauth/clients/{client.ClientId}")).StatusCode);

        var refused = await TokenAsync(_second, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = issued["refresh_token"]!.GetValue<string>() }, client, HttpStatusCode.Unauthorized);
        Assert.Equal("invalid_client", refused["error"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.Unauthorized, await RunsAsync(_second, issued["access_token"]!.GetValue<string>()));
    }

    private static async Task<JsonNode> TokenAsync(FlowgateApp node, Dictionary<string, string> form, Code.Client client, HttpStatusCode expected = HttpStatusCode.OK)
    {
        form["client_id"] = client.ClientId;
        if (client.Secret is not null)
        {
            form["client_secret"] = client.Secret;
        }
        var response = await node.Client().PostAsync("/connect/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"{(int)response.StatusCode}: {body}");
        return JsonNode.Parse(body)!;
    }

    private static async Task<HttpStatusCode> RunsAsync(FlowgateApp node, string accessToken)
    {
        var http = node.Client();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        return (await http.GetAsync("/api/v1/runs")).StatusCode;
    }

    public async Task DisposeAsync()
    {
        await _second.DisposeAsync();
        await _first.DisposeAsync();
        _database.Dispose();
        await Azurite.Blobs().GetBlobContainerClient(_keyRingContainer).DeleteIfExistsAsync();
    }
}
