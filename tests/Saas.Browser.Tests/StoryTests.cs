using System.Text;
using System.Text.RegularExpressions;

namespace Saas.Browser.Tests;

/// <summary>
/// Issue 3's whole story, in the browser only: a new user builds the CSV pipeline through the builder's forms,
/// test-runs it, publishes it, uploads a file, opens the finished run, publishes and rolls back a version, and
/// a user of another tenant reaches none of it.
/// </summary>
[Collection(StoryCollection.Name)]
public sealed class StoryTests(PortalFixture portal)
{
    private const string Sample = "order,country,qty,price\nA-1,DE,2,75\nA-2,FR,1,20\nA-3,NL,10,12.5\nA-4,DE,3,30\n";

    private const string Upload = "order,country,qty,price\nU-1,DE,4,50\nU-2,FR,1,5\nU-3,NL,2,99.5\nU-4,IT,3,10\nU-5,ES,12,10\nU-6,DE,1,99\n";

    [Fact]
    public async Task A_new_user_builds_tests_publishes_uploads_to_and_rolls_back_a_csv_pipeline_that_another_tenant_cannot_reach()
    {
        var page = await portal.SignUpAsync($"story-{Guid.NewGuid():N}@example.com", "Story Ltd");
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
        var navigation = page.GetByRole(AriaRole.Navigation, new() { Name = "Main" });

        // Build: name, upload trigger with CSV, three steps through their forms, the blob sink as CSV.
        await navigation.GetByRole(AriaRole.Link, new() { Name = "Pipelines", Exact = true }).ClickAsync();
        await page.GetByRole(AriaRole.Link, new() { Name = "New pipeline" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/pipelines/new$"));
        await page.GetByLabel("Pipeline name").FillAsync("clean-orders");
        await page.GetByRole(AriaRole.Radio, new() { Name = "File upload" }).CheckAsync();
        await page.GetByRole(AriaRole.Radio, new() { Name = "CSV (header row)" }).CheckAsync();

        await page.GetByRole(AriaRole.Button, new() { Name = "Add a map step", Exact = true }).ClickAsync();
        var map = page.Locator(".fg-step[data-type=map]");
        await map.GetByLabel("Field", new() { Exact = true }).FillAsync("total");
        await map.GetByLabel("Field", new() { Exact = true }).BlurAsync();
        await map.GetByLabel("Expression for total").FillAsync("Number(record.qty) * Number(record.price)");

        await page.GetByRole(AriaRole.Button, new() { Name = "Add a filter step", Exact = true }).ClickAsync();
        await page.Locator(".fg-step[data-type=filter]").GetByLabel("Keep records where").FillAsync("record.total >= 100");

        await page.GetByRole(AriaRole.Button, new() { Name = "Add a select step", Exact = true }).ClickAsync();
        var select = page.Locator(".fg-step[data-type=select]");
        string[] kept = ["order", "country", "total"];
        for (var i = 0; i < kept.Length; i++)
        {
            await select.GetByRole(AriaRole.Button, new() { Name = "Add a field by name" }).ClickAsync();
            var field = select.GetByLabel($"Field {i + 1}", new() { Exact = true });
            await field.FillAsync(kept[i]);
            await field.BlurAsync();
        }

        var output = page.GetByRole(AriaRole.Group, new() { Name = "Output", Exact = true });
        await output.GetByRole(AriaRole.Radio, new() { Name = "CSV", Exact = true }).CheckAsync();
        await Assertions.Expect(page.Locator(".fg-error-summary")).ToHaveCountAsync(0);
        await PortalFixture.ScreenshotAsync(page, "builder");

        // Test run on pasted sample data: each step's records in/out and its output table.
        var draft = page.GetByRole(AriaRole.Region, new() { Name = "Test run" });
        await draft.GetByLabel("Paste sample input").FillAsync(Sample);
        await draft.GetByRole(AriaRole.Button, new() { Name = "Run test" }).ClickAsync();
        await Assertions.Expect(draft.GetByText("Sample: 4 records")).ToBeVisibleAsync();
        await Assertions.Expect(DraftStep(draft, "map1")).ToContainTextAsync("4 in → 4 out");
        await Assertions.Expect(DraftStep(draft, "filter1")).ToContainTextAsync("4 in → 2 out");
        await Assertions.Expect(DraftStep(draft, "select1")).ToContainTextAsync("2 in → 2 out");
        await Assertions.Expect(DraftStep(draft, "map1").Locator("tbody tr").Nth(1)).ToHaveTextAsync(new Regex(@"^2\s*A-2\s*FR\s*1\s*20\s*20$"));
        var selected = DraftStep(draft, "select1");
        await Assertions.Expect(selected.Locator("thead th")).ToHaveTextAsync(["#", "order", "country", "total"]);
        await Assertions.Expect(selected.Locator("tbody tr")).ToHaveTextAsync([new Regex(@"^1\s*A-1\s*DE\s*150$"), new Regex(@"^2\s*A-3\s*NL\s*125$")]);
        // The sample's fields are offered as the previous step's, written as they are inserted (not in capitals).
        await Assertions.Expect(map.GetByRole(AriaRole.Button, new() { Name = "Insert field country" })).ToHaveCSSAsync("text-transform", "none");
        await PortalFixture.ScreenshotAsync(page, "builder-test-run");

        await page.GetByRole(AriaRole.Button, new() { Name = "Create and publish" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/pipelines/pl_[0-9a-f]+$"));
        var pipelineId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "clean-orders" })).ToBeVisibleAsync();

        // Upload a file to the published pipeline, then open the finished run from the runs list.
        await navigation.GetByRole(AriaRole.Link, new() { Name = "Upload", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/upload$"));
        await page.GetByLabel("Pipeline", new() { Exact = true }).SelectOptionAsync(pipelineId);
        await PortalFixture.ChooseFileAsync(page.GetByLabel("File"), new FilePayload { Name = "orders.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(Upload) });
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload and run" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs/run_[0-9a-f]+$"));
        var runId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });

        await navigation.GetByRole(AriaRole.Link, new() { Name = "Runs", Exact = true }).ClickAsync();
        var row = page.GetByTestId("runs").Locator($"tbody tr[data-run={runId}]");
        await Assertions.Expect(row).ToContainTextAsync("clean-orders");
        await row.GetByRole(AriaRole.Link, new() { Name = runId }).ClickAsync();
        await page.WaitForURLAsync(new Regex($"/runs/{runId}$"));
        await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("succeeded");
        await Assertions.Expect(page.GetByTestId("run-records")).ToHaveTextAsync("6 → 3");
        await Assertions.Expect(page.Locator("[data-step=filter1]")).ToContainTextAsync("records 6 → 3");
        await page.GetByRole(AriaRole.Button, new() { Name = "Preview the output of select1" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("preview-select1")).ToHaveTextAsync(
            "{\"order\":\"U-1\",\"country\":\"DE\",\"total\":200}\n{\"order\":\"U-3\",\"country\":\"NL\",\"total\":199}\n{\"order\":\"U-5\",\"country\":\"ES\",\"total\":120}");
        await PortalFixture.ScreenshotAsync(page, "story-run");
        var download = await page.APIRequest.GetAsync($"portal/runs/{runId}/output");
        Assert.Equal("order,country,total\nU-1,DE,200\nU-3,NL,199\nU-5,ES,120\n", (await download.TextAsync()).ReplaceLineEndings("\n"));

        // A second version: the filter keeps only totals of 150 and more.
        await navigation.GetByRole(AriaRole.Link, new() { Name = "Pipelines", Exact = true }).ClickAsync();
        var listed = page.Locator($"tr[data-pipeline={pipelineId}]");
        await Assertions.Expect(listed).ToContainTextAsync("v1");
        await Assertions.Expect(listed).ToContainTextAsync("succeeded");
        await listed.GetByRole(AriaRole.Link, new() { Name = "clean-orders", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(new Regex($"/pipelines/{pipelineId}$"));
        await page.Locator(".fg-step[data-type=filter]").GetByLabel("Keep records where").FillAsync("record.total >= 150");
        await page.GetByRole(AriaRole.Button, new() { Name = "Publish new version" }).ClickAsync();
        await Assertions.Expect(page.Locator(".fg-publish-result")).ToContainTextAsync("Published version 2");

        // Versions: v1 against v2 side by side, then roll back to v1, which becomes v3.
        await page.GetByRole(AriaRole.Link, new() { Name = "Versions", Exact = true }).ClickAsync();
        await page.WaitForURLAsync(new Regex($"/pipelines/{pipelineId}/versions$"));
        await Assertions.Expect(page.Locator("tr[data-version]")).ToHaveCountAsync(2);
        await Assertions.Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "Compare version 1" })).ToBeCheckedAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Checkbox, new() { Name = "Compare version 2" })).ToBeCheckedAsync();
        await Assertions.Expect(page.Locator(".fg-diff-summary")).ToContainTextAsync("Version 1 → version 2: 1 line added, 1 removed");
        await Assertions.Expect(page.Locator(".fg-diff-text.fg-diff-removed")).ToHaveTextAsync(new Regex("\"where\": \"record.total >= 100\""));
        await Assertions.Expect(page.Locator(".fg-diff-text.fg-diff-added")).ToHaveTextAsync(new Regex("\"where\": \"record.total >= 150\""));
        await PortalFixture.ScreenshotAsync(page, "versions-diff");

        await page.GetByRole(AriaRole.Button, new() { Name = "Roll back to version 1" }).ClickAsync();
        await Assertions.Expect(page.Locator(".fg-rollback-result")).ToContainTextAsync("version 3 has the definition of version 1");
        await Assertions.Expect(page.Locator("tr[data-version]")).ToHaveCountAsync(3);
        await Assertions.Expect(page.Locator("tr[data-version='3']")).ToContainTextAsync("v3 (current)");
        await Assertions.Expect(page.Locator(".fg-diff-summary")).ToContainTextAsync("Version 1 → version 3: 0 lines added, 0 removed");
        await page.GetByRole(AriaRole.Link, new() { Name = "Back to the builder" }).ClickAsync();
        await Assertions.Expect(page.Locator(".fg-step[data-type=filter]").GetByLabel("Keep records where")).ToHaveValueAsync("record.total >= 100");

        // Another tenant: 404 for each of tenant A's URLs, and nothing of A in its own lists.
        var other = await portal.SignUpAsync($"story-b-{Guid.NewGuid():N}@example.com", "Other Ltd");
        foreach (var url in new[] { $"pipelines/{pipelineId}", $"pipelines/{pipelineId}/versions", $"runs/{runId}" })
        {
            var response = await other.GotoAsync(url);
            Assert.True(response!.Status == 404, $"{url} answered {response.Status} to another tenant");
            await Assertions.Expect(other.GetByTestId("not-found")).ToBeVisibleAsync();
            await Assertions.Expect(other.Locator("body")).Not.ToContainTextAsync("clean-orders");
        }
        foreach (var url in new[] { "pipelines", "runs" })
        {
            await PortalFixture.GotoInteractiveAsync(other, url);
            await Assertions.Expect(other.GetByRole(AriaRole.Main)).Not.ToContainTextAsync("clean-orders");
            await Assertions.Expect(other.GetByRole(AriaRole.Main)).Not.ToContainTextAsync(runId);
        }
        await Assertions.Expect(other.GetByTestId("runs").Locator("tbody tr")).ToHaveCountAsync(0);
    }

    private static ILocator DraftStep(ILocator draft, string stepId) =>
        draft.GetByRole(AriaRole.Group, new() { Name = $"Output of step {stepId}", Exact = true });
}
