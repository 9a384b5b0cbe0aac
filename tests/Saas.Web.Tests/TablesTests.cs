using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class TablesTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static StringContent Csv(string text) => new(text, Encoding.UTF8, "text/csv");

    private string[] TableBlobs(string tenantId)
    {
        var folder = Path.Combine(app.DataDirectory, "blobs", tenantId, "tables");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];
    }

    [Fact]
    public async Task Each_upload_is_a_new_version_listed_with_its_row_count_and_hidden_from_other_tenants()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync("other");

        var first = await tenant.Http.PutAsync("/api/v1/tables/customers", Csv("id,tier\n1,gold\n2,silver\n"));
        var second = await tenant.Http.PutAsync("/api/v1/tables/customers", new StringContent("{\"id\":1,\"tier\":\"gold\"}\n{\"id\":2,\"tier\":\"bronze\",\"region\":\"eu\"}\n{\"id\":3,\"tier\":\"gold\"}\n", Encoding.UTF8, "application/x-ndjson"));
        var list = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/tables"))!.AsArray();
        var one = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/tables/customers"))!;

        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        Assert.Equal(2, JsonNode.Parse(await second.Content.ReadAsStringAsync())!["version"]!.GetValue<long>());
        var table = list.Single()!;
        Assert.Equal("customers", table["name"]!.GetValue<string>());
        Assert.Equal(2, table["latestVersion"]!.GetValue<long>());
        Assert.Equal(3, table["rows"]!.GetValue<long>());
        Assert.Equal([2L, 1L], one["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<long>()));
        Assert.Equal(["id", "tier", "region"], one["versions"]![0]!["columns"]!.AsArray().Select(c => c!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.NotFound, (await other.Http.GetAsync("/api/v1/tables/customers")).StatusCode);
        Assert.Equal("[]", await other.Http.GetStringAsync("/api/v1/tables"));
    }

    [Fact]
    public async Task Uploads_in_an_unknown_format_or_that_do_not_parse_are_refused_saying_why()
    {
        var tenant = await app.CreateTenantAsync();

        var json = await tenant.Http.PutAsync("/api/v1/tables/t", JsonContent.Create(new[] { new { id = 1 } }));
        var malformed = await tenant.Http.PutAsync("/api/v1/tables/t", new StringContent("{\"id\":1}\n{\"id\":\n", Encoding.UTF8, "application/x-ndjson"));
        var badName = await tenant.Http.PutAsync("/api/v1/tables/1st", Csv("id\n1\n"));

        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Contains("text/csv", await json.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, malformed.StatusCode);
        Assert.Contains("line 2", await malformed.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badName.StatusCode);
        Assert.Equal("[]", await tenant.Http.GetStringAsync("/api/v1/tables"));
        Assert.Empty(TableBlobs(tenant.TenantId));
    }

    [Fact]
    public async Task A_lookup_joins_on_one_or_more_keys_with_a_default_when_no_row_matches()
    {
        var tenant = await app.CreateTenantAsync();
        await tenant.Http.PutAsync("/api/v1/tables/customers", Csv("id,tier\n42,gold\n7,silver\n"));
        await tenant.Http.PutAsync("/api/v1/tables/prices", Csv("sku,country,price\nA,de,10\nA,fr,12\n"));
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "join",
            trigger = new { type = "http" },
            steps = new object[]
            {
                new { id = "tier", type = "lookup", table = "customers", on = new { customer_id = "id" }, fields = new { tier = "tier" }, @default = new { tier = "unknown" } },
                new { id = "price", type = "lookup", table = "prices", on = new { sku = "sku", country = "country" }, fields = new { price = "price" } },
            },
        });

        var run = await tenant.RunAndWaitAsync(pipeline, new object[]
        {
            new { customer_id = 42, sku = "A", country = "fr" },
            new { customer_id = "7", sku = "A", country = "de" },
            new { customer_id = 99, sku = "B", country = "de" },
        });
        var output = await tenant.OutputRecordsAsync(run["id"]!.GetValue<string>());

        Assert.Equal(["gold", "silver", "unknown"], output.Select(o => o["tier"]!.GetValue<string>()));
        Assert.Equal(["12", "10", null], output.Select(o => o["price"]?.GetValue<string>()));
    }

    [Fact]
    public async Task Declared_key_columns_are_checked_at_upload_and_listed_with_the_uploader()
    {
        var tenant = await app.CreateTenantAsync();

        var duplicate = await tenant.Http.PutAsync("/api/v1/tables/prices?keys=sku,country", Csv("sku,country,price\nA,de,10\nA,fr,12\nA,de,11\n"));
        var missing = await tenant.Http.PutAsync("/api/v1/tables/prices?keys=sku", new StringContent("{\"sku\":\"A\"}\n{\"price\":3}\n", Encoding.UTF8, "application/x-ndjson"));
        var badKeys = await tenant.Http.PutAsync("/api/v1/tables/prices?keys=sku,sku", Csv("sku\nA\n"));
        var ok = await tenant.Http.PutAsync("/api/v1/tables/prices?keys=sku,country", Csv("sku,country,price\nA,de,10\nA,fr,12\n"));

        Assert.Equal(HttpStatusCode.BadRequest, duplicate.StatusCode);
        Assert.Contains("line 4, column 1: the key sku=A, country=de repeats the row on line 2", await duplicate.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, missing.StatusCode);
        Assert.Contains("line 2, column 1: the key column 'sku' has no value", await missing.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.BadRequest, badKeys.StatusCode);
        Assert.Contains("keys: must name 0 to 8 distinct columns", await badKeys.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Created, ok.StatusCode);
        var version = JsonNode.Parse(await ok.Content.ReadAsStringAsync())!;
        Assert.Equal(1, version["version"]!.GetValue<long>());
        Assert.Equal(["sku", "country"], version["keys"]!.AsArray().Select(k => k!.GetValue<string>()));
        Assert.StartsWith("key_", version["createdBy"]!.GetValue<string>());
        Assert.Single(TableBlobs(tenant.TenantId));
    }

    [Fact]
    public async Task Deleting_a_table_removes_its_versions_and_blobs_is_audited_and_refused_while_a_pipeline_looks_it_up()
    {
        var tenant = await app.CreateTenantAsync();
        var other = await app.CreateTenantAsync("other");
        await tenant.Http.PutAsync("/api/v1/tables/customers", Csv("id,tier\n1,gold\n"));
        await tenant.Http.PutAsync("/api/v1/tables/customers", Csv("id,tier\n1,platinum\n"));
        await tenant.Http.PutAsync("/api/v1/tables/old", Csv("id\n1\n"));
        var pipeline = await tenant.CreatePipelineAsync(new
        {
            name = "enrich",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "tier", type = "lookup", table = "customers", on = new { id = "id" }, fields = new { tier = "tier" } } },
        });

        var foreign = await other.Http.DeleteAsync("/api/v1/tables/old");
        var inUse = await tenant.Http.DeleteAsync("/api/v1/tables/customers");
        var oldVersion = await tenant.Http.DeleteAsync("/api/v1/tables/customers/versions/1");
        var lastVersion = await tenant.Http.DeleteAsync("/api/v1/tables/customers/versions/2");
        var unused = await tenant.Http.DeleteAsync("/api/v1/tables/old");
        var again = await tenant.Http.DeleteAsync("/api/v1/tables/old");
        var noVersion = await tenant.Http.DeleteAsync("/api/v1/tables/customers/versions/7");

        Assert.Equal(HttpStatusCode.NotFound, foreign.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, inUse.StatusCode);
        Assert.Contains($"pipeline 'enrich' ({pipeline}, version 1)", await inUse.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.NoContent, oldVersion.StatusCode);
        Assert.Equal(HttpStatusCode.Conflict, lastVersion.StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, unused.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, noVersion.StatusCode);
        var customers = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/tables/customers"))!;
        Assert.Equal([2L], customers["versions"]!.AsArray().Select(v => v!["version"]!.GetValue<long>()));
        Assert.Single(TableBlobs(tenant.TenantId));
        var preview = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/tables/customers/versions/2/rows"))!.AsArray();
        Assert.Equal("platinum", preview.Single()!["tier"]!.GetValue<string>());
        var audit = JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/audit?action=table.deleted"))!["items"]!.AsArray();
        Assert.Equal("old", audit.Single()!["targetId"]!.GetValue<string>());
        Assert.Single(JsonNode.Parse(await tenant.Http.GetStringAsync("/api/v1/audit?action=table.version_deleted"))!["items"]!.AsArray());
    }

    [Fact]
    public async Task A_lookup_of_a_table_that_does_not_exist_is_refused_at_publish()
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.PostAsJsonAsync("/api/v1/pipelines", new
        {
            name = "join",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "tier", type = "lookup", table = "customers", on = new { customer_id = "id" }, fields = new { tier = "tier" } } },
        });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("steps[0].table: the reference table 'customers' does not exist; upload it with PUT /api/v1/tables/customers", await response.Content.ReadAsStringAsync());
    }
}
