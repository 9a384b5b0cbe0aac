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
