using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using Saas.Pipelines.Tenancy;
using Saas.Web.OAuth;

namespace Saas.Web.Tests;

/// <summary>
/// Walks the app's own route table, so an endpoint added later is covered without touching this test:
/// every tenant API and gateway endpoint refuses a request without a key, with a revoked key or an expired
/// token (401), with a key or a token that lacks its scope (403 naming it), and every endpoint that names a
/// resource answers 404 when tenant B names tenant A's.
/// </summary>
public sealed class RouteTableIsolationTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task Every_tenant_api_endpoint_refuses_anonymous_callers_and_hides_other_tenants_resources()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        var definition = new { name = "secret", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } };
        var pipeline = await a.CreatePipelineAsync(definition);
        var run = (await a.RunAndWaitAsync(pipeline, new { x = "a's data" }))["id"]!.GetValue<string>();
        (await a.Http.PutAsync("/api/v1/tables/a_table", new StringContent("id,x\n1,a's data\n", Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
        var client = System.Text.Json.Nodes.JsonNode.Parse(await (await a.Http.PostAsJsonAsync("/api/v1/oauth/clients", new { name = "a's app", scopes = new[] { "runs:read" } })).Content.ReadAsStringAsync())!["clientId"]!.GetValue<string>();
        var key = System.Text.Json.Nodes.JsonNode.Parse(await a.Http.GetStringAsync("/api/v1/keys"))![0]!["id"]!.GetValue<string>();

        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1", StringComparison.Ordinal) || e.RoutePattern.RawText!.StartsWith("/v1", StringComparison.Ordinal)
                || e.RoutePattern.RawText!.StartsWith("/api/platform/v1", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => (method, pattern: e.RoutePattern.RawText!)))
            .ToList();
        Assert.True(endpoints.Count >= 18, $"only {endpoints.Count} endpoints found");

        // Credentials that must not work: an expired token, a revoked key, and a key and a token of one scope each.
        var revokedKey = await CreateKeyAsync(a, null);
        var revokedId = System.Text.Json.Nodes.JsonNode.Parse(await a.Http.GetStringAsync("/api/v1/keys"))!.AsArray().First(k => k!["name"]!.GetValue<string>() == "isolation")!["id"]!.GetValue<string>();
        Assert.Equal(HttpStatusCode.NoContent, (await a.Http.DeleteAsync($"/api/v1/keys/{revokedId}")).StatusCode);
        var billingKey = app.Client(await CreateKeyAsync(a, Scopes.BillingRead));
        var gatewayKey = app.Client(await CreateKeyAsync(a, Scopes.Gateway));
        var billingToken = await TokenAsync(a, Scopes.BillingRead);
        var gatewayToken = await TokenAsync(a, Scopes.Gateway);
        var expired = Resigned(await TokenAsync(a, [.. Scopes.All]), DateTimeOffset.UtcNow.AddMinutes(-1));
        var stillValid = Resigned(await TokenAsync(a, [.. Scopes.All]), DateTimeOffset.UtcNow.AddMinutes(5));
        Assert.Equal(HttpStatusCode.OK, (await Bearer(stillValid).GetAsync("/api/v1/pipelines")).StatusCode);

        foreach (var (method, pattern) in endpoints)
        {
            var path = pattern
                .Replace("pipelines/{id}", $"pipelines/{pipeline}")
                .Replace("runs/{id}", $"runs/{run}")
                .Replace("{stepId}", "s")
                .Replace("{version:long}", "1")
                .Replace("tables/{name}", "tables/a_table")
                .Replace("{queue}", "orders")
                .Replace("{name}", "openai")
                .Replace("{alias}", "fast")
                .Replace("plans/{id}", "plans/plan_none")
                .Replace("tenants/{id}", $"tenants/{a.TenantId}")
                .Replace("{**path}", "exports/a.csv")
                .Replace("{clientId}", client)
                .Replace("keys/{id}", $"keys/{key}");
            Assert.False(path.Contains('{'), $"{method} {pattern}: the test does not know what to put in this route's parameters; add it above");

            var anonymous = await app.Client().SendAsync(Request(method, path));
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a key answered {(int)anonymous.StatusCode}");
            foreach (var (credential, name) in new[] { (revokedKey, "a revoked key"), (expired, "an expired token") })
            {
                var refused = await Bearer(credential).SendAsync(Request(method, path));
                Assert.True(refused.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} with {name} answered {(int)refused.StatusCode}");
            }

            if (!pattern.StartsWith("/api/platform/", StringComparison.Ordinal))
            {
                var required = ScopeCheck.RequiredScope(pattern, method is "GET" or "HEAD");
                var (otherKey, otherToken) = required == Scopes.BillingRead ? (gatewayKey, gatewayToken) : (billingKey, billingToken);
                foreach (var (caller, name) in new[] { (otherKey, "a key"), (Bearer(otherToken), "a token") })
                {
                    var forbidden = await caller.SendAsync(Request(method, path));
                    var detail = await forbidden.Content.ReadAsStringAsync();
                    Assert.True(forbidden.StatusCode == HttpStatusCode.Forbidden, $"{method} {path} with {name} without its scope answered {(int)forbidden.StatusCode}: {detail}");
                    Assert.Contains(required is null ? "tenant administrators" : $"'{required}'", detail);
                }
            }

            if (pattern.StartsWith("/api/platform/", StringComparison.Ordinal))
            {
                var tenantKey = await a.Http.SendAsync(Request(method, path));
                Assert.True(tenantKey.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} (platform API) with a tenant key answered {(int)tenantKey.StatusCode}");
            }
            else if (pattern.Contains("{id}", StringComparison.Ordinal) || pattern.Contains("{clientId}", StringComparison.Ordinal)
                || (pattern.Contains("tables/{name}", StringComparison.Ordinal) && method != "PUT"))
            {
                var foreign = await b.Http.SendAsync(Request(method, path));
                var body = await foreign.Content.ReadAsStringAsync();
                Assert.True(foreign.StatusCode == HttpStatusCode.NotFound, $"{method} {path} as tenant B answered {(int)foreign.StatusCode}: {body}");
                Assert.DoesNotContain("a's data", body);
            }
        }

        Assert.Equal("succeeded", (await a.GetRunAsync(run))["status"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await a.Http.GetAsync("/api/v1/tables/a_table")).StatusCode);
    }

    private async Task<string> CreateKeyAsync(TenantClient tenant, string? scope)
    {
        var response = await tenant.Http.PostAsJsonAsync("/api/v1/keys", new { name = "isolation", scopes = scope is null ? null : new[] { scope } });
        return System.Text.Json.Nodes.JsonNode.Parse(await response.Content.ReadAsStringAsync())!["key"]!.GetValue<string>();
    }

    private async Task<string> TokenAsync(TenantClient tenant, params string[] scopes)
    {
        var client = System.Text.Json.Nodes.JsonNode.Parse(await (await tenant.Http.PostAsJsonAsync("/api/v1/oauth/clients", new { name = "isolation", scopes })).Content.ReadAsStringAsync())!;
        var token = await app.Client().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = client["clientId"]!.GetValue<string>(), ["client_secret"] = client["clientSecret"]!.GetValue<string>(),
        }));
        return System.Text.Json.Nodes.JsonNode.Parse(await token.Content.ReadAsStringAsync())!["access_token"]!.GetValue<string>();
    }

    /// <summary>The same token signed again with the server's key, expiring at <paramref name="expires"/>: a real token, but out of date.</summary>
    private string Resigned(string token, DateTimeOffset expires)
    {
        var payload = System.Text.Json.Nodes.JsonNode.Parse(Base64UrlEncoder.Decode(token.Split('.')[1]))!.AsObject();
        payload["exp"] = expires.ToUnixTimeSeconds();
        payload["iat"] = expires.AddMinutes(-10).ToUnixTimeSeconds();
        payload["nbf"] = expires.AddMinutes(-10).ToUnixTimeSeconds();
        var key = app.Services.GetRequiredService<OAuthKeyRing>().Load(OAuthKeyRing.Signing).Current;
        return new JsonWebTokenHandler().CreateToken(payload.ToJsonString(), new SigningCredentials(key, SecurityAlgorithms.RsaSha256),
            new Dictionary<string, object> { ["typ"] = "at+jwt" });
    }

    private HttpClient Bearer(string credential)
    {
        var client = app.Client();
        client.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", credential);
        return client;
    }

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method is "GET" or "DELETE" ? null : path.EndsWith("/uploads", StringComparison.Ordinal)
            ? new StringContent("x\n1\n", Encoding.UTF8, "text/csv")
            : JsonContent.Create(new { x = 1 }),
    };
}
