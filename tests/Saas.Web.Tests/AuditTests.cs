using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines.Storage;

namespace Saas.Web.Tests;

public sealed class AuditTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static object Definition(string name) => new { name, trigger = new { type = "http" }, steps = new[] { new { id = "keep", type = "select", fields = new[] { "x" } } } };

    [Fact]
    public async Task Pipeline_and_ai_changes_are_logged_with_who_when_and_from_where_newest_first_and_secrets_never_appear()
    {
        var tenant = await app.CreateTenantAsync();
        tenant.Http.DefaultRequestHeaders.UserAgent.ParseAdd("audit-test/1.0");
        var pipeline = await tenant.CreatePipelineAsync(Definition("p"));
        await tenant.Http.PutAsJsonAsync($"/api/v1/pipelines/{pipeline}", Definition("p2"));
        await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/pause", null);
        await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/main", new { type = "openai", apiKey = "sk-very-secret-value" });

        var page = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/audit"))!;
        var items = page["items"]!.AsArray();

        Assert.Equal(["ai.provider.saved", "pipeline.paused", "pipeline.published", "pipeline.created"], items.Select(i => i!["action"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal("api_key", i!["actorType"]!.GetValue<string>()));
        Assert.All(items, i => Assert.StartsWith("key_", i!["actorId"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal("127.0.0.1", i!["ip"]!.GetValue<string>()));
        Assert.All(items, i => Assert.Equal("audit-test/1.0", i!["userAgent"]!.GetValue<string>()));
        Assert.Equal(2, items[2]!["details"]!["version"]!.GetValue<long>());
        Assert.True(items[0]!["details"]!["apiKeyChanged"]!.GetValue<bool>());
        Assert.DoesNotContain("sk-very-secret-value", page.ToJsonString());

        var prefixed = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/audit?action=pipeline."))!["items"]!.AsArray();
        Assert.Equal(3, prefixed.Count);
    }

    [Fact]
    public async Task Resumes_table_version_deletes_provider_deletes_and_plan_assignments_are_logged_with_who_what_and_from_where()
    {
        var tenant = await app.CreateTenantAsync();
        tenant.Http.DefaultRequestHeaders.UserAgent.ParseAdd("audit-test/2.0");
        var keyId = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/keys"))!.AsArray().Single()!["id"]!.GetValue<string>();
        var pipeline = await tenant.CreatePipelineAsync(Definition("p"));
        (await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/pause", null)).EnsureSuccessStatusCode();
        (await tenant.Http.PostAsync($"/api/v1/pipelines/{pipeline}/resume", null)).EnsureSuccessStatusCode();
        (await tenant.Http.PutAsync("/api/v1/tables/customers", new StringContent("id\n1\n", System.Text.Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
        (await tenant.Http.PutAsync("/api/v1/tables/customers", new StringContent("id\n2\n", System.Text.Encoding.UTF8, "text/csv"))).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync("/api/v1/tables/customers/versions/1")).StatusCode);
        (await tenant.Http.PutAsJsonAsync("/api/v1/ai/providers/main", new { type = "openai", apiKey = "sk-x" })).EnsureSuccessStatusCode();
        Assert.Equal(HttpStatusCode.NoContent, (await tenant.Http.DeleteAsync("/api/v1/ai/providers/main")).StatusCode);
        var platform = await BillingTests.PlatformClientAsync(app);
        platform.DefaultRequestHeaders.UserAgent.ParseAdd("operator-console/1.0");
        var plan = await platform.PostAsJsonAsync("/api/platform/v1/plans", new { name = $"audit-{Guid.NewGuid():N}", currency = "usd" });
        var planId = JsonNode.Parse(await plan.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();
        (await platform.PutAsJsonAsync($"/api/platform/v1/tenants/{tenant.TenantId}/plan", new { planId })).EnsureSuccessStatusCode();

        var resumed = await SingleAsync(tenant, "pipeline.resumed");
        var versionDeleted = await SingleAsync(tenant, "table.version_deleted");
        var providerDeleted = await SingleAsync(tenant, "ai.provider.deleted");
        var planAssigned = await SingleAsync(tenant, "billing.plan_assigned");

        foreach (var entry in new[] { resumed, versionDeleted, providerDeleted })
        {
            Assert.Equal(("api_key", keyId, "127.0.0.1", "audit-test/2.0"), Origin(entry));
        }
        Assert.Equal(("pipeline", pipeline), Target(resumed));
        Assert.Equal(("reference_table", "customers"), Target(versionDeleted));
        Assert.Equal(1, Assert.Single(versionDeleted["details"]!["versions"]!.AsArray())!.GetValue<long>());
        Assert.Equal(("ai_provider", "main"), Target(providerDeleted));
        Assert.Equal(("platform", "127.0.0.1", "operator-console/1.0"), (Origin(planAssigned).Type, Origin(planAssigned).Ip, Origin(planAssigned).UserAgent));
        Assert.Equal(("tenant", tenant.TenantId), Target(planAssigned));
        Assert.Equal(planId, planAssigned["details"]!["planId"]!.GetValue<string>());
    }

    private static async Task<JsonNode> SingleAsync(TenantClient tenant, string action) =>
        Assert.Single(JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/audit?action={action}"))!["items"]!.AsArray())!;

    private static (string Type, string? Id, string? Ip, string? UserAgent) Origin(JsonNode entry) =>
        (entry["actorType"]!.GetValue<string>(), entry["actorId"]?.GetValue<string>(), entry["ip"]?.GetValue<string>(), entry["userAgent"]?.GetValue<string>());

    private static (string? Type, string? Id) Target(JsonNode entry) => (entry["targetType"]?.GetValue<string>(), entry["targetId"]?.GetValue<string>());

    [Fact]
    public async Task The_export_is_jsonl_oldest_first_and_another_tenant_sees_none_of_it()
    {
        var a = await app.CreateTenantAsync();
        var b = await app.CreateTenantAsync();
        await a.CreatePipelineAsync(Definition("one"));
        await a.CreatePipelineAsync(Definition("two"));

        var export = await a.Http.GetAsync("/api/v1/audit/export");
        var lines = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();

        Assert.Equal("application/x-ndjson", export.Content.Headers.ContentType!.MediaType);
        Assert.Equal(["one", "two"], lines.Select(l => l["details"]!["name"]!.GetValue<string>()));
        Assert.Empty(JsonNode.Parse(await b.Http.GetStringAsync("/api/v1/audit"))!["items"]!.AsArray());
        Assert.Empty((await b.Http.GetStringAsync("/api/v1/audit/export")).Trim());
    }

    [Fact]
    public async Task The_log_is_append_only_even_for_sql_that_bypasses_the_code()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.CreatePipelineAsync(Definition("x"));
        var database = app.Services.GetRequiredService<Database>();

        var update = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => database.WriteAsync((c, t) => { using var command = c.CreateCommand(); command.Transaction = t; command.CommandText = "UPDATE audit_log SET action = 'forged'"; command.ExecuteNonQuery(); }));
        var delete = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => database.WriteAsync((c, t) => { using var command = c.CreateCommand(); command.Transaction = t; command.CommandText = "DELETE FROM audit_log"; command.ExecuteNonQuery(); }));

        Assert.Contains("append-only", update.Message);
        Assert.Contains("append-only", delete.Message);
    }
}
