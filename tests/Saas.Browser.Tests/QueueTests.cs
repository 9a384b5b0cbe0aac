namespace Saas.Browser.Tests;

[Collection(RunsCollection.Name)]
public sealed class QueueTests(PortalFixture portal)
{
    [Fact]
    public async Task A_test_message_posted_on_the_upload_page_starts_a_run_of_the_pipeline_listening_on_the_queue()
    {
        var email = $"queue-{Guid.NewGuid():N}@example.com";
        var page = await portal.SignUpAsync(email, "Queues Ltd");
        var api = await portal.ApiClientAsync(email);
        var pipeline = await api.CreatePipelineAsync(new
        {
            name = "orders-in",
            trigger = new { type = "queue", queue = "orders" },
            steps = new object[] { new { id = "upper", type = "map", fields = new Dictionary<string, string> { ["order"] = "record.order.toUpperCase()" } } },
        });

        await PortalFixture.GotoInteractiveAsync(page, "upload");
        await page.GetByLabel("Message (a JSON object, or an array of them)").FillAsync("{ \"order\": \"t-1\" ");
        await page.GetByRole(AriaRole.Button, new() { Name = "Post message" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("This is not JSON");

        await page.GetByLabel("Message (a JSON object, or an array of them)").FillAsync("[{ \"order\": \"t-1\" }, { \"order\": \"t-2\" }]");
        await page.GetByRole(AriaRole.Button, new() { Name = "Post message" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Status).Filter(new() { HasText = "posted" })).ToContainTextAsync("2 messages posted to 'orders'; 1 pipeline listens on it.");

        // Each message starts a run; the runs list shows both finishing, live.
        await PortalFixture.GotoInteractiveAsync(page, $"runs?pipeline={pipeline}&status=succeeded");
        await Assertions.Expect(page.GetByTestId("runs").Locator("tbody tr")).ToHaveCountAsync(2, new() { Timeout = 30_000 });

        // The layout holds on a small laptop: nothing wider than the window.
        await page.SetViewportSizeAsync(1024, 700);
        Assert.True(await page.EvaluateAsync<bool>("document.documentElement.scrollWidth <= window.innerWidth"), "the runs page scrolls sideways at 1024 px");
    }
}
