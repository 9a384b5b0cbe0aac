using System.Text;

namespace Saas.Browser.Tests;

[Collection(PortalCollection.Name)]
public sealed class TablesTests(PortalFixture portal)
{
    [Fact]
    public async Task A_table_uploaded_in_the_browser_is_listed_previewed_and_deleted_after_confirming()
    {
        var page = await portal.SignUpAsync($"tables-{Guid.NewGuid():N}@example.com", "Tables Inc");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Reference tables" })).ToBeVisibleAsync();
        await PortalFixture.GotoInteractiveAsync(page, "tables");

        await page.GetByLabel("Table name").FillAsync("customers");
        await PortalFixture.ChooseFileAsync(page.Locator("#table-file"), new FilePayload
        {
            Name = "customers.csv",
            MimeType = "text/csv",
            Buffer = Encoding.UTF8.GetBytes("id,tier,region\n1,gold,eu\n2,silver,us\n3,gold,eu\n"),
        });
        // The portal confirms the chosen file once the server has it: clicking Upload before that finds no file.
        await Assertions.Expect(page.GetByTestId("chosen-file")).ToContainTextAsync("customers.csv");
        await page.GetByLabel("Key columns (optional, comma-separated)").FillAsync("id");
        await page.GetByRole(AriaRole.Button, new() { Name = "Upload", Exact = true }).ClickAsync();

        await Assertions.Expect(page.GetByTestId("uploaded")).ToContainTextAsync("Version 1 of 'customers' stored: 3 rows");
        var row = page.Locator("tr[data-table='customers']");
        await Assertions.Expect(row).ToContainTextAsync("id");
        await row.GetByRole(AriaRole.Button, new() { Name = "Preview customers" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("preview")).ToContainTextAsync("silver");
        await PortalFixture.ScreenshotAsync(page, "tables");

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete customers" }).ClickAsync();
        await page.GetByRole(AriaRole.Button, new() { Name = "Confirm delete" }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("delete-result")).ToContainTextAsync("Table 'customers' deleted.");
        await Assertions.Expect(page.Locator("tr[data-table='customers']")).ToHaveCountAsync(0);
    }
}
