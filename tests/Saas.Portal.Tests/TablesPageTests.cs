using System.Text;
using Microsoft.AspNetCore.Components.Forms;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.Extensions.Options;
using Saas.Pipelines;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Tables;
using Saas.Web.Components.Tables;

namespace Saas.Portal.Tests;

/// <summary>The reference tables page on the real engine: uploads checked as the API checks them, previews, deletes behind a confirmation, roles.</summary>
public sealed class TablesPageTests : PageContext
{
    private const string Lookup = """
        {"name":"enrich","trigger":{"type":"http"},
         "steps":[{"id":"tier","type":"lookup","table":"customers","on":{"customer_id":"id"},"fields":{"tier":"tier"}}]}
        """;

    private ReferenceTables Tables => Services.GetRequiredService<ReferenceTables>();

    private IEnumerable<string> AuditActions(string tenant) => Services.GetRequiredService<AuditLog>().Export(tenant, 0, long.MaxValue).Select(e => e.Action);

    private string[] TableBlobs(string tenant)
    {
        var folder = Path.Combine(Services.GetRequiredService<IOptions<FlowgateOptions>>().Value.DataDirectory, "blobs", tenant, "tables");
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];
    }

    private async Task UploadAsync(IRenderedComponent<TablesPage> page, string name, string file, string content, string keys = "")
    {
        page.Find("#table-name").Input(name);
        page.FindComponent<InputFile>().UploadFiles(InputFileContent.CreateFromText(content, file));
        page.Find("#table-keys").Input(keys);
        await page.Find("[data-testid='upload-form']").SubmitAsync();
    }

    private Task SeedAsync(string tenant, string name, string csv) =>
        Tables.UploadAsync(tenant, name, InputFormat.Csv, new MemoryStream(Encoding.UTF8.GetBytes(csv)), CancellationToken.None, ["id"], "seed@example.com");

    [Fact]
    public async Task A_builder_uploads_a_keyed_table_sees_it_listed_with_who_and_previews_its_first_rows()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, email: "bob@example.com");
        var page = Render<TablesPage>();

        await UploadAsync(page, "customers", "customers.csv", "id,tier\n1,gold\n2,silver\n", "id");

        Assert.Contains("Version 1 of 'customers' stored: 2 rows", page.Find("[data-testid='uploaded']").TextContent);
        var row = page.Find("tr[data-table='customers']");
        Assert.Equal(["customers", "v1 (1)", "2", "id", "24 B", "bob@example.com"], row.QuerySelectorAll("td").Take(6).Select(td => td.TextContent));
        await page.Find("button[aria-label='Preview customers']").ClickAsync(new MouseEventArgs());
        var preview = page.Find("[data-testid='preview']");
        Assert.Equal(["#", "id", "tier"], preview.QuerySelectorAll("th[scope='col']").Select(th => th.TextContent));
        Assert.Contains("silver", preview.TextContent);
        var saved = Assert.Single(Tables.List(tenant));
        Assert.Equal("bob@example.com", saved.CreatedBy);
        Assert.Equal(["id"], saved.KeyColumnNames);
        Assert.Equal(["table.uploaded"], AuditActions(tenant));

        await page.Find("button[aria-label='Upload a new version of customers']").ClickAsync(new MouseEventArgs());
        Assert.Equal("id", page.Find("#table-keys").GetAttribute("value"));
        Assert.Contains("becomes version 2", page.Find("#table-name-help").TextContent);
    }

    [Fact]
    public async Task An_upload_that_breaks_its_key_or_does_not_parse_shows_the_line_and_leaves_nothing_behind()
    {
        var tenant = await TenantAsync();
        SignIn(tenant);
        var page = Render<TablesPage>();

        await UploadAsync(page, "customers", "customers.csv", "id,tier\n1,gold\n2,silver\n1,bronze\n", "id");
        Assert.Contains("line 4", page.Find("[data-path='content']").TextContent);
        Assert.Contains("id=1 repeats the row on line 2", page.Find("[data-path='content']").TextContent);

        await UploadAsync(page, "customers", "customers.jsonl", "{\"id\":1}\n{\"id\":\n");
        Assert.Contains("line 2", page.Find("[data-path='content']").TextContent);

        await UploadAsync(page, "customers", "customers.txt", "id\n1\n");
        Assert.Contains("neither .csv nor .jsonl", page.Find("[data-path='file']").TextContent);

        await UploadAsync(page, "1st", "t.csv", "id\n1\n");
        Assert.Contains("starting with a letter", page.Find("[data-path='name']").TextContent);

        Assert.Empty(Tables.List(tenant));
        Assert.Empty(TableBlobs(tenant));
        Assert.Empty(AuditActions(tenant));
    }

    [Fact]
    public async Task A_viewer_reads_and_previews_but_cannot_upload_and_a_builder_cannot_delete()
    {
        var tenant = await TenantAsync();
        await SeedAsync(tenant, "customers", "id,tier\n1,gold\n");
        SignIn(tenant, role: "viewer");

        var viewer = Render<TablesPage>();
        Assert.Empty(viewer.FindAll("[data-testid='upload-form']"));
        Assert.Empty(viewer.FindAll("button[aria-label='Delete customers']"));
        await viewer.Find("button[aria-label='Versions of customers']").ClickAsync(new MouseEventArgs());
        await viewer.Find("button[aria-label='Preview customers version 1']").ClickAsync(new MouseEventArgs());
        Assert.Contains("gold", viewer.Find("[data-testid='preview']").TextContent);

        SignIn(tenant, role: "builder");
        var builder = Render<TablesPage>();
        Assert.NotNull(builder.Find("[data-testid='upload-form']"));
        Assert.Empty(builder.FindAll("button[aria-label='Delete customers']"));
    }

    [Fact]
    public async Task An_admin_deletes_after_confirming_and_a_table_a_pipeline_uses_is_refused_naming_it()
    {
        var tenant = await TenantAsync();
        await SeedAsync(tenant, "customers", "id,tier\n1,gold\n");
        await SeedAsync(tenant, "old", "id\n1\n");
        await SeedAsync(tenant, "old", "id\n2\n");
        var pipeline = await PipelineAsync(tenant, Lookup);
        var other = await TenantAsync("other");
        await SeedAsync(other, "old", "id\n1\n");
        SignIn(tenant, role: "admin");
        var page = Render<TablesPage>();

        await page.Find("button[aria-label='Delete customers']").ClickAsync(new MouseEventArgs());
        await page.Find("button[aria-label='Confirm delete']").ClickAsync(new MouseEventArgs());
        Assert.Contains($"pipeline 'enrich' ({pipeline.Id}, version 1)", page.Find("[data-testid='delete-result']").TextContent);
        Assert.NotEmpty(Tables.List(tenant, "customers"));

        await page.Find("button[aria-label='Delete old']").ClickAsync(new MouseEventArgs());
        Assert.Contains("All 2 version(s)", page.Find("[data-testid='confirm-delete']").TextContent);
        await page.Find("[data-testid='confirm-delete'] button:not([aria-label])").ClickAsync(new MouseEventArgs());
        Assert.Empty(page.FindAll("[data-testid='confirm-delete']"));
        Assert.NotEmpty(Tables.List(tenant, "old"));
        await page.Find("button[aria-label='Delete old']").ClickAsync(new MouseEventArgs());
        await page.Find("button[aria-label='Confirm delete']").ClickAsync(new MouseEventArgs());

        Assert.Contains("Table 'old' deleted.", page.Find("[data-testid='delete-result']").TextContent);
        Assert.Empty(page.FindAll("tr[data-table='old']"));
        Assert.Empty(Tables.List(tenant, "old"));
        Assert.Single(TableBlobs(tenant));
        Assert.Single(Tables.List(other, "old"));
        Assert.Equal(["table.deleted"], AuditActions(tenant));
    }
}
