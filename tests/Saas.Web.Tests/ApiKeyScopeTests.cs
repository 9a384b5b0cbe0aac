using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class ApiKeyScopeTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task A_scoped_key_works_within_its_scopes_gets_403_naming_the_missing_one_and_cannot_administer_the_tenant()
    {
        var tenant = await app.CreateTenantAsync();
        var created = await tenant.Http.PostAsJsonAsync("/api/v1/keys", new { name = "reader", scopes = new[] { "runs:read" } });
        var body = JsonNode.Parse(await created.Content.ReadAsStringAsync())!;
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToJsonString());
        using var key = app.Client(body["key"]!.GetValue<string>());

        var runs = await key.GetAsync("/api/v1/runs");
        var pipelines = await key.GetAsync("/api/v1/pipelines");
        var admin = await key.GetAsync("/api/v1/keys");
        var gateway = await key.GetAsync("/v1/models");

        Assert.Equal(HttpStatusCode.OK, runs.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, pipelines.StatusCode);
        Assert.Contains("'pipelines:read'", await pipelines.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, admin.StatusCode);
        Assert.Contains("tenant administrators", await admin.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, gateway.StatusCode);
        Assert.Contains("'gateway'", await gateway.Content.ReadAsStringAsync());
        // The tenant's first key predates scopes: it keeps full access.
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/api/v1/pipelines")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await tenant.Http.GetAsync("/api/v1/keys")).StatusCode);
    }

    [Fact]
    public async Task Keys_are_listed_without_secrets_revoked_at_once_and_audited_and_bad_scopes_are_named()
    {
        var tenant = await app.CreateTenantAsync();
        var bad = await tenant.Http.PostAsJsonAsync("/api/v1/keys", new { name = "", scopes = new[] { "runs:read", "everything" } });
        var created = JsonNode.Parse(await (await tenant.Http.PostAsJsonAsync("/api/v1/keys", new { name = "export" })).Content.ReadAsStringAsync())!;
        var id = created["id"]!.GetValue<string>();
        using var key = app.Client(created["key"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, (await key.GetAsync("/api/v1/secrets")).StatusCode);

        var list = await tenant.Http.GetStringAsync("/api/v1/keys");
        var revoked = await tenant.Http.DeleteAsync($"/api/v1/keys/{id}");
        var again = await tenant.Http.DeleteAsync($"/api/v1/keys/{id}");
        var audit = await tenant.Http.GetStringAsync("/api/v1/audit?action=api_key.");

        var problem = await bad.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
        Assert.Contains("'everything' is not a scope", problem);
        Assert.Contains("\"name\"", problem);
        Assert.Null(created["scopes"]);
        Assert.Contains(id, list);
        Assert.DoesNotContain(created["key"]!.GetValue<string>(), list);
        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await key.GetAsync("/api/v1/pipelines")).StatusCode);
        Assert.Contains("api_key.created", audit);
        Assert.Contains("api_key.revoked", audit);
    }
}
