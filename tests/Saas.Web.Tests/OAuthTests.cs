using System.Net;
using Dapper;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using Saas.Web.OAuth;

namespace Saas.Web.Tests;

public sealed class OAuthTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private async Task<(string ClientId, string Secret, string TokenEndpoint)> CreateClientAsync(TenantClient tenant, params string[] scopes)
    {
        var response = await tenant.Http.PostAsJsonAsync("/api/v1/oauth/clients", new { name = "crm-sync", scopes });
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        return (body["clientId"]!.GetValue<string>(), body["clientSecret"]!.GetValue<string>(), body["tokenEndpoint"]!.GetValue<string>());
    }

    private async Task<HttpResponseMessage> RequestTokenAsync(string clientId, string secret, string? scope = null)
    {
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret };
        if (scope is not null)
        {
            form["scope"] = scope;
        }
        return await app.Client().PostAsync("/connect/token", new FormUrlEncodedContent(form));
    }

    private async Task<HttpClient> TokenClientAsync(string clientId, string secret, string? scope = null)
    {
        var response = await RequestTokenAsync(clientId, secret, scope);
        var body = JsonNode.Parse(await response.Content.ReadAsStringAsync())!;
        Assert.True(response.IsSuccessStatusCode, body.ToJsonString());
        Assert.Equal("Bearer", body["token_type"]!.GetValue<string>());
        Assert.InRange(body["expires_in"]!.GetValue<int>(), 1, 600);
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body["access_token"]!.GetValue<string>());
        return client;
    }

    [Fact]
    public async Task Discovery_names_the_token_endpoint_and_the_keys_and_a_client_gets_a_token_for_its_scopes()
    {
        var tenant = await app.CreateTenantAsync();
        var (clientId, secret, tokenEndpoint) = await CreateClientAsync(tenant, "pipelines:read", "runs:write");

        var discovery = JsonNode.Parse(await app.Client().GetStringAsync("/.well-known/openid-configuration"))!;
        var jwks = JsonNode.Parse(await app.Client().GetStringAsync(discovery["jwks_uri"]!.GetValue<string>()))!;

        Assert.Equal(tokenEndpoint, discovery["token_endpoint"]!.GetValue<string>());
        Assert.Contains("client_credentials", discovery["grant_types_supported"]!.AsArray().Select(g => g!.GetValue<string>()));
        Assert.Equal("RSA", jwks["keys"]![0]!["kty"]!.GetValue<string>());
        var token = await TokenClientAsync(clientId, secret);
        Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("/api/v1/pipelines")).StatusCode);
        var list = await tenant.Http.GetStringAsync("/api/v1/oauth/clients");
        Assert.Contains(clientId, list);
        Assert.DoesNotContain(secret, list);
    }

    [Fact]
    public async Task A_token_without_the_endpoints_scope_gets_403_naming_it_and_admin_endpoints_are_closed_to_clients()
    {
        var tenant = await app.CreateTenantAsync();
        var (clientId, secret, _) = await CreateClientAsync(tenant, "pipelines:read");
        var token = await TokenClientAsync(clientId, secret);

        var write = await token.PostAsJsonAsync("/api/v1/pipelines", new { name = "x" });
        var gateway = await token.GetAsync("/v1/models");
        var admin = await token.GetAsync("/api/v1/ai/providers");

        Assert.Equal(HttpStatusCode.Forbidden, write.StatusCode);
        Assert.Contains("'pipelines:write'", await write.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, gateway.StatusCode);
        Assert.Contains("'gateway'", await gateway.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        Assert.Contains("tenant administrators", await admin.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Wrong_secrets_and_scopes_beyond_the_clients_are_refused_at_the_token_endpoint()
    {
        var tenant = await app.CreateTenantAsync();
        var (clientId, secret, _) = await CreateClientAsync(tenant, "runs:read");

        var wrongSecret = await RequestTokenAsync(clientId, secret + "x");
        var tooMuch = await RequestTokenAsync(clientId, secret, "runs:read pipelines:write");

        Assert.False(wrongSecret.IsSuccessStatusCode);
        Assert.Equal("invalid_client", JsonNode.Parse(await wrongSecret.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
        Assert.Equal("invalid_scope", JsonNode.Parse(await tooMuch.Content.ReadAsStringAsync())!["error"]!.GetValue<string>());
        Assert.Contains("pipelines:write", await tooMuch.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task A_revoked_client_is_refused_at_once_even_with_an_unexpired_token_and_a_tampered_token_never_works()
    {
        var tenant = await app.CreateTenantAsync();
        var (clientId, secret, _) = await CreateClientAsync(tenant, "pipelines:read");
        var token = await TokenClientAsync(clientId, secret);
        Assert.Equal(HttpStatusCode.OK, (await token.GetAsync("/api/v1/pipelines")).StatusCode);

        var jwt = token.DefaultRequestHeaders.Authorization!.Parameter!;
        var tampered = app.Client();
        tampered.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", jwt[..^4] + (jwt[^4..] == "AAAA" ? "BBBB" : "AAAA"));
        Assert.Equal(HttpStatusCode.Unauthorized, (await tampered.GetAsync("/api/v1/pipelines")).StatusCode);

        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync($"/api/v1/oauth/clients/{clientId}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await token.GetAsync("/api/v1/pipelines")).StatusCode);
        Assert.False((await RequestTokenAsync(clientId, secret)).IsSuccessStatusCode);
    }

    [Fact]
    public async Task A_token_acts_for_its_own_tenant_only()
    {
        var a = await app.CreateTenantAsync();
        var b = await app.CreateTenantAsync();
        var pipeline = await a.CreatePipelineAsync(new { name = "a", trigger = new { type = "http" }, steps = new[] { new { id = "s", type = "select", fields = new[] { "x" } } } });
        var (clientId, secret, _) = await CreateClientAsync(b, "pipelines:read", "runs:write");
        var token = await TokenClientAsync(clientId, secret);

        Assert.Equal(HttpStatusCode.NotFound, (await token.GetAsync($"/api/v1/pipelines/{pipeline}")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await token.PostAsJsonAsync($"/api/v1/pipelines/{pipeline}/runs", new { x = 1 })).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await b.Http.DeleteAsync($"/api/v1/oauth/clients/{clientId}x")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await a.Http.DeleteAsync($"/api/v1/oauth/clients/{clientId}")).StatusCode);
    }

    [Fact]
    public void Nodes_share_one_key_per_period_the_next_is_published_a_period_ahead_and_old_ones_retire()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2031-01-01T00:00:00Z"));
        var database = app.Services.GetRequiredService<Saas.Pipelines.Storage.Database>();
        var protection = app.Services.GetRequiredService<IDataProtectionProvider>();
        var node1 = new OAuthKeyRing(database, protection, time);
        var node2 = new OAuthKeyRing(database, protection, time);

        var first = node1.Load(OAuthKeyRing.Signing);
        var same = node2.Load(OAuthKeyRing.Signing);
        time.Advance(OAuthKeyRing.RotateAfter);
        var second = node2.Load(OAuthKeyRing.Signing);
        time.Advance(OAuthKeyRing.RotateAfter * (OAuthKeyRing.KeptPeriods + 1));
        var later = node1.Load(OAuthKeyRing.Signing);

        Assert.Equal(first.Current.KeyId, same.Current.KeyId);
        Assert.Equal(Modulus(first.Current), Modulus(same.Current));
        Assert.Equal(2, first.All.Count); // the current key and the next one, published before it signs
        Assert.Equal(first.All[1].KeyId, second.Current.KeyId);
        Assert.Equal(Modulus(first.All[1]), Modulus(second.Current));
        Assert.Contains(second.All, k => k.KeyId == first.Current.KeyId);
        Assert.DoesNotContain(later.All, k => k.KeyId == first.Current.KeyId);
        Assert.NotEqual(Modulus(first.Current), Modulus(node1.Load(OAuthKeyRing.Encryption).Current));
        using var connection = database.OpenConnection();
        Assert.All(connection.Query<string>("SELECT protected_key FROM oauth_keys"), k => Assert.DoesNotContain("PRIVATE KEY", System.Text.Encoding.Latin1.GetString(Convert.FromBase64String(k))));
    }

    [Fact]
    public async Task At_a_rollover_the_server_signs_with_the_next_key_and_validation_accepts_both_without_a_restart()
    {
        var time = new FakeTimeProvider(DateTimeOffset.Parse("2032-03-01T00:00:00Z"));
        await using var node = new ServiceCollection()
            .AddLogging()
            .AddSingleton<IConfiguration>(new ConfigurationBuilder().Build())
            .AddSingleton(app.Services.GetRequiredService<Saas.Pipelines.Storage.Database>())
            .AddSingleton(app.Services.GetRequiredService<IDataProtectionProvider>())
            .AddSingleton<TimeProvider>(time)
            .AddOAuthServer()
            .BuildServiceProvider();
        var server = node.GetRequiredService<IOptionsMonitor<OpenIddict.Server.OpenIddictServerOptions>>();
        var validation = node.GetRequiredService<IOptionsMonitor<OpenIddict.Validation.OpenIddictValidationOptions>>();
        var before = server.CurrentValue.SigningCredentials[0].Key.KeyId;
        Assert.Equal($"signing-{OAuthKeyRing.PeriodOf(time.GetUtcNow())}", before);
        _ = validation.CurrentValue;

        time.Advance(OAuthKeyRing.NextRollover(time.GetUtcNow()) - time.GetUtcNow() + TimeSpan.FromSeconds(2));

        Assert.Equal($"signing-{OAuthKeyRing.PeriodOf(time.GetUtcNow())}", server.CurrentValue.SigningCredentials[0].Key.KeyId);
        Assert.Contains(server.CurrentValue.SigningCredentials, c => c.Key.KeyId == before);
        Assert.Equal($"encryption-{OAuthKeyRing.PeriodOf(time.GetUtcNow())}", server.CurrentValue.EncryptionCredentials[0].Key.KeyId);
        var validationKeys = validation.CurrentValue.Configuration?.SigningKeys.Select(k => k.KeyId).ToList() ?? [];
        Assert.Contains(before, validationKeys);
        Assert.Contains(server.CurrentValue.SigningCredentials[0].Key.KeyId, validationKeys);
    }

    [Fact]
    public async Task One_role_table_decides_both_what_a_member_may_delegate_and_which_portal_pages_they_may_use()
    {
        var policies = app.Services.GetRequiredService<Microsoft.AspNetCore.Authorization.IAuthorizationPolicyProvider>();

        foreach (var (permission, _) in Saas.Pipelines.Tenancy.Scopes.LeastRole)
        {
            var policy = await policies.GetPolicyAsync(permission);
            var roles = Assert.Single(policy!.Requirements.OfType<Microsoft.AspNetCore.Authorization.Infrastructure.RolesAuthorizationRequirement>()).AllowedRoles;
            foreach (var role in Saas.Pipelines.Tenancy.MemberRoles.All)
            {
                var delegable = Saas.Pipelines.Tenancy.Scopes.AllowedFor(role).Contains(permission);
                Assert.Equal(Saas.Pipelines.Tenancy.Scopes.RoleMay(role, permission), roles.Contains(role));
                Assert.Equal(permission != Saas.Pipelines.Tenancy.Scopes.Administer && roles.Contains(role), delegable);
            }
        }
        Assert.Equal(Saas.Pipelines.Tenancy.Scopes.All.Order(), Saas.Pipelines.Tenancy.Scopes.LeastRole.Keys.Where(k => k != Saas.Pipelines.Tenancy.Scopes.Administer).Order());
    }

    private static string Modulus(Microsoft.IdentityModel.Tokens.RsaSecurityKey key) => Convert.ToBase64String(key.Rsa.ExportParameters(false).Modulus!);
}
