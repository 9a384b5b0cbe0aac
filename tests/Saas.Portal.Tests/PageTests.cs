using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Saas.Pipelines.Pipelines;
using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

public sealed class PageTests : PageContext
{
    [Fact]
    public async Task A_builder_creates_a_pipeline_from_the_forms_and_the_version_records_who_published_it()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, email: "bob@example.com");
        var page = Render<PipelineBuilderPage>();

        page.Find(".fg-pipeline-name input").Input("big orders");
        await page.Find("button[aria-label='Add a filter step']").ClickAsync(new MouseEventArgs());
        page.Find("[data-step='filter1'] .fg-expression input").Input("Number(record.qty) > 1");
        await page.Find("button.fg-publish").ClickAsync(new MouseEventArgs());

        var created = Assert.Single(Pipelines.List(tenant));
        Assert.Equal("big orders", created.Name);
        Assert.EndsWith($"/pipelines/{created.Id}", Services.GetRequiredService<NavigationManager>().Uri);
        var version = Pipelines.FindVersion(tenant, created.Id, 1)!;
        Assert.Equal("bob@example.com", version.PublishedBy);
        Assert.Contains("\"where\":\"Number(record.qty) > 1\"", version.Definition);
    }

    [Fact]
    public async Task Publishing_an_edit_makes_a_new_version_and_pause_stops_the_pipeline()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        SignIn(tenant);
        var page = Render<PipelineBuilderPage>(p => p.Add(x => x.Id, pipeline.Id));

        page.Find("[data-step='big'] .fg-expression input").Input("record.total >= 150");
        await page.Find("button.fg-publish").ClickAsync(new MouseEventArgs());
        Assert.Contains("Published version 2", page.Find(".fg-publish-result").TextContent);
        await page.Find("button.fg-pause").ClickAsync(new MouseEventArgs());

        Assert.Contains(">= 150", Pipelines.FindVersion(tenant, pipeline.Id, 2)!.Definition);
        Assert.Equal(PipelineStatus.Paused, Pipelines.Find(tenant, pipeline.Id)!.Status);
        Assert.Equal(["pipeline.published", "pipeline.paused"],
            Services.GetRequiredService<Saas.Pipelines.Audit.AuditLog>().Export(tenant, 0, long.MaxValue).Select(e => e.Action));
    }

    [Fact]
    public async Task Another_tenants_pipeline_renders_not_found_on_every_page()
    {
        var owner = await TenantAsync("owner");
        var pipeline = await PipelineAsync(owner);
        var intruder = await TenantAsync("intruder");
        SignIn(intruder, role: "owner");

        var builder = Render<PipelineBuilderPage>(p => p.Add(x => x.Id, pipeline.Id));
        var versions = Render<PipelineVersionsPage>(p => p.Add(x => x.Id, pipeline.Id));
        var list = Render<PipelinesPage>();

        Assert.NotNull(builder.Find(".fg-not-found"));
        Assert.DoesNotContain("orders", builder.Markup);
        Assert.NotNull(versions.Find(".fg-not-found"));
        Assert.DoesNotContain("orders", list.Markup);
    }

    [Fact]
    public async Task A_viewer_sees_the_pipeline_read_only_and_cannot_publish_pause_or_roll_back()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        SignIn(tenant, role: "viewer");

        var page = Render<PipelineBuilderPage>(p => p.Add(x => x.Id, pipeline.Id));
        var versions = Render<PipelineVersionsPage>(p => p.Add(x => x.Id, pipeline.Id));

        Assert.Empty(page.FindAll("button.fg-publish"));
        Assert.Empty(page.FindAll("button.fg-pause"));
        Assert.Empty(page.FindAll("button[aria-label^='Add a']"));
        Assert.True(page.Find("[data-step='big'] .fg-expression input").HasAttribute("readonly"));
        Assert.Empty(versions.FindAll("button.fg-rollback"));
        Assert.Contains("Read-only", page.Markup);
    }

    [Fact]
    public async Task A_test_run_shows_each_steps_counts_and_output_table_and_feeds_field_suggestions()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant, """
            {"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[
              {"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}},
              {"id":"big","type":"filter","where":"record.total >= 100"},
              {"id":"country","type":"map","fields":{"c":"record.total > 140 ? record.country.toUpperCase() : record.nothing.here"}}]}
            """);
        SignIn(tenant);
        var page = Render<PipelineBuilderPage>(p => p.Add(x => x.Id, pipeline.Id));

        page.Find(".fg-sample textarea").Change("order,qty,price,country\nA-1,2,75,de\nA-2,1,20,fr\nA-3,10,12.5,nl\n");
        await page.Find("button.fg-run-test").ClickAsync(new MouseEventArgs());

        var total = page.Find(".fg-draft [data-step='total']");
        Assert.Contains("3 in → 3 out", total.TextContent);
        Assert.Equal(["#", "order", "qty", "price", "country", "total"], total.QuerySelectorAll("th[scope='col']").Select(th => th.TextContent));
        Assert.Contains("150", total.TextContent);
        Assert.Contains("3 in → 2 out", page.Find(".fg-draft [data-step='big']").TextContent);
        var failed = page.Find(".fg-draft [data-step='country']");
        Assert.Contains("record 2:", failed.TextContent);
        Assert.Contains("{\"order\":\"A-3\",\"qty\":\"10\",\"price\":\"12.5\",\"country\":\"nl\",\"total\":125}", failed.TextContent.Replace("&quot;", "\""));
        Assert.NotNull(page.Find("[data-step='country'] button[aria-label='Insert field total']"));
        Assert.NotNull(page.Find("[data-step='total'] button[aria-label='Insert field country']"));
    }

    [Fact]
    public async Task An_uploaded_sample_offers_its_columns_before_any_test_run_and_runs_like_a_pasted_one()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        SignIn(tenant);
        var page = Render<PipelineBuilderPage>(p => p.Add(x => x.Id, pipeline.Id));

        page.FindComponent<Microsoft.AspNetCore.Components.Forms.InputFile>().UploadFiles(InputFileContent.CreateFromText("order,qty,price\nA-1,2,75\nA-2,1,20\n", "orders.csv"));
        Assert.NotNull(page.Find("[data-step='total'] button[aria-label='Insert field price']"));
        await page.Find("button.fg-run-test").ClickAsync(new MouseEventArgs());

        Assert.Contains("2 in → 1 out", page.Find(".fg-draft [data-step='big']").TextContent);
    }

    [Fact]
    public async Task The_list_shows_the_tenants_pipelines_with_trigger_version_and_status_and_pauses_them()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        await PipelineAsync(await TenantAsync("other"), Csv.Replace("\"orders\"", "\"secret-other\""));
        SignIn(tenant, role: "admin");

        var list = Render<PipelinesPage>();
        var row = list.Find($"tr[data-pipeline='{pipeline.Id}']");
        Assert.Contains("orders", row.TextContent);
        Assert.Contains("upload", row.TextContent);
        Assert.Contains("v1", row.TextContent);
        Assert.Contains("never", row.TextContent);
        Assert.DoesNotContain("secret-other", list.Markup);

        await list.Find($"button[aria-label='Pause orders']").ClickAsync(new MouseEventArgs());

        Assert.Equal(PipelineStatus.Paused, Pipelines.Find(tenant, pipeline.Id)!.Status);
        Assert.Contains("Paused", list.Find($"tr[data-pipeline='{pipeline.Id}']").TextContent);
    }
}
