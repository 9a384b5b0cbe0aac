using System.Net;
using System.Net.Http.Json;
using System.Text;
using Microsoft.AspNetCore.Routing;

namespace Saas.Web.Tests;

/// <summary>
/// Walks the app's own route table, so an endpoint added later is covered without touching this test:
/// every tenant API and gateway endpoint refuses a request without a key, and every endpoint that names a
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

        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText!.StartsWith("/api/v1", StringComparison.Ordinal) || e.RoutePattern.RawText!.StartsWith("/v1", StringComparison.Ordinal)
                || e.RoutePattern.RawText!.StartsWith("/api/platform/v1", StringComparison.Ordinal))
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? ["GET"]).Select(method => (method, pattern: e.RoutePattern.RawText!)))
            .ToList();
        Assert.True(endpoints.Count >= 18, $"only {endpoints.Count} endpoints found");

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
                .Replace("{clientId}", client);
            Assert.False(path.Contains('{'), $"{method} {pattern}: the test does not know what to put in this route's parameters; add it above");

            var anonymous = await app.Client().SendAsync(Request(method, path));
            Assert.True(anonymous.StatusCode == HttpStatusCode.Unauthorized, $"{method} {path} without a key answered {(int)anonymous.StatusCode}");

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

    private static HttpRequestMessage Request(string method, string path) => new(new HttpMethod(method), path)
    {
        Content = method is "GET" or "DELETE" ? null : path.EndsWith("/uploads", StringComparison.Ordinal)
            ? new StringContent("x\n1\n", Encoding.UTF8, "text/csv")
            : JsonContent.Create(new { x = 1 }),
    };
}
