using Microsoft.AspNetCore.Components.Web;
using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

public sealed class VersionTests : PageContext
{
    [Fact]
    public void The_line_diff_keeps_common_lines_and_marks_removed_and_added_ones()
    {
        var lines = LineDiff.Compare("a\nb\nc\nd", "a\nc\nx\nd\ne");

        Assert.Equal(
            ["  a", "- b", "  c", "+ x", "  d", "+ e"],
            lines.Select(l => (l.Kind switch { DiffKind.Added => "+ ", DiffKind.Removed => "- ", _ => "  " }) + l.Text));
        Assert.Equal([1, 2, 3, null, 4, null], lines.Select(l => l.Left));
        Assert.Equal([1, null, 2, 3, 4, 5], lines.Select(l => l.Right));
    }

    [Fact]
    public void Side_by_side_a_changed_line_faces_its_replacement()
    {
        var rows = LineDiff.SideBySide(LineDiff.Compare("a\nold\nz", "a\nnew\nmore\nz"));

        Assert.Equal(["a|a", "old|new", "|more", "z|z"], rows.Select(r => $"{r.Left?.Text}|{r.Right?.Text}"));
    }

    [Fact]
    public async Task The_versions_page_lists_who_published_each_version_and_diffs_the_latest_two()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant, publishedBy: null);
        var edited = Csv.Replace("record.total >= 100", "record.total >= 500");
        await Pipelines.PublishAsync(tenant, pipeline.Id, edited, Saas.Pipelines.Definitions.DefinitionParser.Parse(edited).Pipeline!, "ann@example.com", CancellationToken.None);
        SignIn(tenant);

        var page = Render<PipelineVersionsPage>(p => p.Add(x => x.Id, pipeline.Id));

        Assert.Contains("ann@example.com", page.Find("tr[data-version='2']").TextContent);
        Assert.Contains("—", page.Find("tr[data-version='1']").TextContent);
        Assert.Contains("1 line added, 1 removed", page.Find(".fg-diff-summary").TextContent);
        Assert.Contains("record.total >= 100", Assert.Single(page.FindAll("td.fg-diff-text.fg-diff-removed")).TextContent);
        var added = Assert.Single(page.FindAll("td.fg-diff-text.fg-diff-added"));
        Assert.Contains("record.total >= 500", added.TextContent);
        Assert.Contains("added:", added.TextContent);
    }

    [Fact]
    public async Task Rolling_back_publishes_the_old_definition_as_a_new_version_by_the_user()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        var edited = Csv.Replace("record.total >= 100", "record.total >= 500");
        await Pipelines.PublishAsync(tenant, pipeline.Id, edited, Saas.Pipelines.Definitions.DefinitionParser.Parse(edited).Pipeline!, "ann@example.com", CancellationToken.None);
        SignIn(tenant, role: "owner", email: "olga@example.com");
        var page = Render<PipelineVersionsPage>(p => p.Add(x => x.Id, pipeline.Id));

        await page.Find("button[aria-label='Roll back to version 1']").ClickAsync(new MouseEventArgs());

        var v3 = Pipelines.FindVersion(tenant, pipeline.Id, 3)!;
        Assert.Equal(Pipelines.FindVersion(tenant, pipeline.Id, 1)!.Definition, v3.Definition);
        Assert.Equal("olga@example.com", v3.PublishedBy);
        Assert.Equal(3, Pipelines.Find(tenant, pipeline.Id)!.CurrentVersion);
        Assert.Contains("version 3 has the definition of version 1", page.Find(".fg-rollback-result").TextContent);
        Assert.Contains("0 lines added, 0 removed", page.Find(".fg-diff-summary").TextContent);
        var audit = Assert.Single(Services.GetRequiredService<Saas.Pipelines.Audit.AuditLog>().Export(tenant, 0, long.MaxValue), e => e.Action == "pipeline.rolled_back");
        Assert.Equal(("user", "user-1", pipeline.Id), (audit.ActorType, audit.ActorId, audit.TargetId));
        Assert.Equal("""{"version":3,"from":1}""", audit.Details);
    }

    [Fact]
    public async Task Ticking_versions_chooses_which_two_are_compared()
    {
        var tenant = await TenantAsync();
        var pipeline = await PipelineAsync(tenant);
        foreach (var limit in new[] { "200", "300" })
        {
            var edited = Csv.Replace("100", limit);
            await Pipelines.PublishAsync(tenant, pipeline.Id, edited, Saas.Pipelines.Definitions.DefinitionParser.Parse(edited).Pipeline!, null, CancellationToken.None);
        }
        SignIn(tenant, role: "viewer");
        var page = Render<PipelineVersionsPage>(p => p.Add(x => x.Id, pipeline.Id));

        page.Find("tr[data-version='1'] input[type='checkbox']").Change(true);

        Assert.Contains("Version 1 → version 3", page.Find(".fg-diff-summary").TextContent);
        Assert.Contains(">= 100", page.Find("td.fg-diff-removed.fg-diff-text").TextContent);
    }
}
