using System.Text.RegularExpressions;

namespace Saas.Browser.Tests;

[Collection(RunsCollection.Name)]
public sealed class IsolationTests(PortalFixture portal)
{
    [Fact]
    public async Task A_user_of_another_tenant_gets_not_found_for_every_url_of_tenant_a_and_sees_none_of_its_data()
    {
        var emailA = $"a-{Guid.NewGuid():N}@example.com";
        await portal.SignUpAsync(emailA, "Tenant A");
        var a = await portal.ApiClientAsync(emailA);
        var pipeline = await a.CreatePipelineAsync(RunTests.CsvPipeline("a-secret-pipeline"));
        var run = (await a.UploadAsync(pipeline, "order,qty,price\nA-SECRET,10,12.5\n"))["id"]!.GetValue<string>();
        await a.WaitForRunAsync(run);

        var b = await portal.SignUpAsync($"b-{Guid.NewGuid():N}@example.com", "Tenant B");
        foreach (var url in new[] { $"runs/{run}", $"pipelines/{pipeline}", $"pipelines/{pipeline}/dashboard" })
        {
            var response = await b.GotoAsync(url);
            Assert.True(response!.Status == 404, $"{url} answered {response.Status} to tenant B");
            await Assertions.Expect(b.GetByTestId("not-found")).ToBeVisibleAsync();
            await Assertions.Expect(b.Locator("body")).Not.ToContainTextAsync("a-secret-pipeline");
        }
        await PortalFixture.ScreenshotAsync(b, "not-found");
        foreach (var download in new[] { $"portal/runs/{run}/output", $"portal/runs/{run}/steps/total/output" })
        {
            var response = await b.APIRequest.GetAsync(download);
            Assert.Equal(404, response.Status);
            Assert.DoesNotContain("A-SECRET", await response.TextAsync());
        }

        foreach (var page in new[] { "runs", "upload" })
        {
            await PortalFixture.GotoInteractiveAsync(b, page);
            await Assertions.Expect(b.GetByRole(AriaRole.Main)).Not.ToContainTextAsync(run);
            await Assertions.Expect(b.GetByRole(AriaRole.Main)).Not.ToContainTextAsync("a-secret-pipeline");
        }

        // Signed out, the portal's downloads are not reachable at all (an endpoint, so 401 rather than a redirect).
        var anonymous = await portal.NewPageAsync();
        var anonymousDownload = await anonymous.APIRequest.GetAsync($"portal/runs/{run}/output", new() { MaxRedirects = 0 });
        Assert.Equal(401, anonymousDownload.Status);
    }
}
