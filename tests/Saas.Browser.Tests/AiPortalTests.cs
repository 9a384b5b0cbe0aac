using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using Saas.Web.Tests;

namespace Saas.Browser.Tests;

[CollectionDefinition(Name)]
public sealed class AiCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "ai";
}

/// <summary>The AI and OAuth clients pages end to end: a real host, a local fake OpenAI upstream and Chromium.</summary>
[Collection(AiCollection.Name)]
public sealed class AiPortalTests(PortalFixture portal) : IAsyncLifetime
{
    private FakeOpenAi _upstream = null!;

    public async Task InitializeAsync() => _upstream = await FakeOpenAi.StartAsync();

    public async Task DisposeAsync() => await _upstream.DisposeAsync();

    [Fact]
    public async Task A_provider_and_alias_set_in_the_portal_serve_a_gateway_call_that_shows_in_the_request_log()
    {
        var page = await portal.SignUpAsync($"ai-{Guid.NewGuid():N}@example.com", "AI Inc");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "AI", Exact = true })).ToBeVisibleAsync();
        await PortalFixture.GotoInteractiveAsync(page, "ai");

        await page.GetByLabel("Name", new() { Exact = true }).FillAsync("local");
        await page.GetByLabel("Type", new() { Exact = true }).SelectOptionAsync("openai-compatible");
        await page.GetByLabel("Base URL").FillAsync(_upstream.BaseUrl("ok"));
        await page.GetByLabel("API key", new() { Exact = true }).FillAsync("sk-upstream-secret");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save provider" }).ClickAsync();
        var provider = page.Locator("tr[data-provider='local']");
        await Assertions.Expect(provider).ToContainTextAsync("key set");
        await Assertions.Expect(page.Locator("body")).Not.ToContainTextAsync("sk-upstream-secret");

        await page.GetByLabel("Alias", new() { Exact = true }).FillAsync("fast");
        await page.GetByLabel("Provider", new() { Exact = true }).SelectOptionAsync("local");
        await page.GetByLabel("Model", new() { Exact = true }).FillAsync("tiny");
        await page.GetByRole(AriaRole.Button, new() { Name = "Save alias" }).ClickAsync();
        await Assertions.Expect(page.Locator("tr[data-model='fast']")).ToContainTextAsync("local/tiny");

        await PortalFixture.GotoInteractiveAsync(page, "api-keys");
        await page.GetByLabel("Key name").FillAsync("chat-app");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
        var secret = (await page.GetByTestId("new-key").InnerTextAsync()).Trim();

        using var api = portal.App.Client(secret);
        var reply = await api.PostAsJsonAsync("/v1/chat/completions", new { model = "fast", messages = new[] { new { role = "user", content = "hi" } } });
        Assert.Equal(HttpStatusCode.OK, reply.StatusCode);
        Assert.Contains("hello from tiny", await reply.Content.ReadAsStringAsync());

        await PortalFixture.GotoInteractiveAsync(page, "ai");
        var logged = page.Locator("[data-testid='requests'] tr[data-request]");
        await Assertions.Expect(logged).ToHaveCountAsync(1);
        await Assertions.Expect(logged).ToContainTextAsync("gateway");
        await Assertions.Expect(logged).ToContainTextAsync("fast");
        await Assertions.Expect(logged).ToContainTextAsync("tiny");
        await Assertions.Expect(logged).ToContainTextAsync("200");
        await PortalFixture.ScreenshotAsync(page, "ai");
    }

    [Fact]
    public async Task An_oauth_client_made_in_the_portal_gets_a_token_that_calls_the_api_until_it_is_revoked()
    {
        var page = await portal.SignUpAsync($"oauth-{Guid.NewGuid():N}@example.com", "OAuth Inc");
        await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "OAuth clients" })).ToBeVisibleAsync();
        await PortalFixture.GotoInteractiveAsync(page, "oauth-clients");

        await page.GetByLabel("Client name").FillAsync("crm-sync");
        await page.GetByRole(AriaRole.Button, new() { Name = "Create client" }).ClickAsync();
        var clientId = (await page.GetByTestId("new-client-id").InnerTextAsync()).Trim();
        var secret = (await page.GetByTestId("new-client-secret").InnerTextAsync()).Trim();
        await Assertions.Expect(page.GetByTestId("curl")).ToContainTextAsync(clientId);
        var tokenEndpoint = (await page.GetByTestId("token-endpoint").InnerTextAsync()).Trim();
        Assert.Equal(new Uri(portal.App.BaseAddress, "/connect/token").ToString(), tokenEndpoint);
        await PortalFixture.ScreenshotAsync(page, "oauth-clients");

        using var http = new HttpClient { BaseAddress = portal.App.BaseAddress };
        var token = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = clientId, ["client_secret"] = secret, ["scope"] = "pipelines:read",
        }));
        Assert.Equal(HttpStatusCode.OK, token.StatusCode);
        var accessToken = JsonDocument.Parse(await token.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
        Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/api/v1/pipelines")).StatusCode);

        var row = page.Locator($"tr[data-client='{clientId}']");
        await row.GetByRole(AriaRole.Button, new() { Name = "Revoke crm-sync" }).ClickAsync();
        await row.GetByRole(AriaRole.Button, new() { Name = "Confirm: revoke crm-sync" }).ClickAsync();
        await Assertions.Expect(row).ToContainTextAsync("revoked");
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/v1/pipelines")).StatusCode);
    }
}
