using System.Text;
using System.Text.RegularExpressions;
using Saas.Web.Tests;

namespace Saas.Browser.Tests;

[Collection(RunsCollection.Name)]
public sealed class RunTests(PortalFixture portal)
{
    public static object CsvPipeline(string name) => new
    {
        name,
        trigger = new { type = "upload", format = "csv" },
        steps = new object[]
        {
            new { id = "total", type = "map", fields = new Dictionary<string, string> { ["total"] = "Number(record.qty) * Number(record.price)" } },
            new { id = "big", type = "filter", where = "record.total >= 100" },
            new { id = "shape", type = "select", fields = new[] { "order", "total" } },
        },
        sink = new { type = "blob", format = "csv" },
    };

    [Fact]
    public async Task A_csv_uploaded_in_the_browser_runs_and_its_steps_output_and_replay_are_on_the_run_page()
    {
        var email = $"runs-{Guid.NewGuid():N}@example.com";
        var page = await portal.SignUpAsync(email, "Orders Ltd");
        var api = await portal.ApiClientAsync(email);
        var pipeline = await api.CreatePipelineAsync(CsvPipeline("big-orders"));

        // 20,000 rows (about 400 KB): big enough to be streamed in many pieces, half of them "big".
        var csv = new StringBuilder("order,qty,price\n");
        for (var i = 0; i < 20_000; i++)
        {
            csv.Append("A-").Append(i).Append(',').Append(i % 2 == 0 ? 10 : 1).Append(",12.5\n");
        }

        await PortalFixture.GotoInteractiveAsync(page, "upload");
        await page.GetByLabel("Pipeline").SelectOptionAsync(pipeline);
        await PortalFixture.ChooseFileAsync(page.GetByLabel("File"), new FilePayload { Name = "orders.csv", MimeType = "text/csv", Buffer = Encoding.UTF8.GetBytes(csv.ToString()) });
        await PortalFixture.ScreenshotAsync(page, "upload");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload and run" }).ClickAsync();

        await page.WaitForURLAsync(new Regex("/runs/run_[0-9a-f]+$"), new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByTestId("run-records")).ToHaveTextAsync("20,000 → 10,000");
        var runId = page.Url[(page.Url.LastIndexOf('/') + 1)..];
        var step = page.Locator("[data-step=big]");
        await Assertions.Expect(step).ToContainTextAsync("records 20,000 → 10,000");

        await page.GetByRole(AriaRole.Button, new() { Name = "Preview the output of total" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("preview-total")).ToContainTextAsync("\"order\":\"A-0\",\"qty\":\"10\",\"price\":\"12.5\",\"total\":125");
        await PortalFixture.ScreenshotAsync(page, "run");

        var output = await page.APIRequest.GetAsync($"portal/runs/{runId}/output");
        Assert.Equal(200, output.Status);
        var lines = (await output.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["order,total", "A-0,125"], lines[..2]);
        Assert.Equal(10_001, lines.Length);
        var stepOutput = await page.APIRequest.GetAsync($"portal/runs/{runId}/steps/shape/output");
        Assert.Equal(10_000, (await stepOutput.TextAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Length);

        await page.GetByRole(AriaRole.Button, new() { Name = "Replay" }).ClickAsync();
        await page.WaitForURLAsync(url => url.Contains("/runs/run_") && !url.EndsWith(runId));
        await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("succeeded", new() { Timeout = 60_000 });
        await Assertions.Expect(page.GetByRole(AriaRole.Main)).ToContainTextAsync($"replay of {runId}");
    }

    [Fact]
    public async Task The_runs_list_filters_by_pipeline_and_status_and_shows_new_runs_without_a_reload()
    {
        var email = $"list-{Guid.NewGuid():N}@example.com";
        var page = await portal.SignUpAsync(email, "Lists Ltd");
        var api = await portal.ApiClientAsync(email);
        var fine = await api.CreatePipelineAsync(new { name = "fine", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } });
        var broken = await api.CreatePipelineAsync(new { name = "broken", trigger = new { type = "http" }, steps = new object[] { new { id = "m", type = "map", fields = new Dictionary<string, string> { ["y"] = "record.x.toUpperCase()" } } } });
        var succeeded = (await api.RunAndWaitAsync(fine, new { x = "a" }))["id"]!.GetValue<string>();
        var failed = (await api.RunAndWaitAsync(broken, new { x = 1 }))["id"]!.GetValue<string>();

        await PortalFixture.GotoInteractiveAsync(page, "runs");
        var rows = page.GetByTestId("runs").Locator("tbody tr");
        await Assertions.Expect(rows).ToHaveCountAsync(2);
        await PortalFixture.ScreenshotAsync(page, "runs");

        await page.GetByLabel("Status").SelectOptionAsync("failed");
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-run", failed);

        await page.GetByLabel("Status").SelectOptionAsync("");
        await page.GetByLabel("Pipeline").SelectOptionAsync(fine);
        await Assertions.Expect(rows).ToHaveCountAsync(1);
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-run", succeeded);

        await page.GetByLabel("Started").SelectOptionAsync("1h");
        await Assertions.Expect(rows).ToHaveCountAsync(1);

        // Live: a run started elsewhere appears while the page stays open.
        var another = (await api.RunAndWaitAsync(fine, new { x = "b" }))["id"]!.GetValue<string>();
        await Assertions.Expect(rows).ToHaveCountAsync(2, new() { Timeout = 10_000 });
        await Assertions.Expect(rows.First).ToHaveAttributeAsync("data-run", another);

        await rows.First.GetByRole(AriaRole.Link, new() { Name = another }).ClickAsync();
        await page.WaitForURLAsync(new Regex($"/runs/{another}$"));
        await Assertions.Expect(page.GetByTestId("run-status")).ToHaveTextAsync("succeeded");

        // The pipeline's dashboard counts today's runs and failures.
        await PortalFixture.GotoInteractiveAsync(page, $"pipelines/{broken}/dashboard");
        var today = DateTime.UtcNow.ToString("yyyy-MM-dd");
        await Assertions.Expect(page.GetByTestId("per-day").Locator("tbody tr")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("per-day").Locator("tbody tr").First).ToHaveTextAsync(new Regex($"{today}\\s*1\\s*0\\s*1\\s*100%"));
        await Assertions.Expect(page.Locator("svg").First).ToBeVisibleAsync();
        await PortalFixture.ScreenshotAsync(page, "dashboard");
    }
}
