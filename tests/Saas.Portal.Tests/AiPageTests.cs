using Microsoft.AspNetCore.Components.Web;
using Saas.Pipelines.Ai;
using Saas.Pipelines.Audit;
using Saas.Pipelines.Tenancy;
using Saas.Web.Ai;
using Saas.Web.Components.Ai;
using Saas.Web.Components.OAuth;
using Saas.Web.Gateway;

namespace Saas.Portal.Tests;

/// <summary>The AI and OAuth clients pages on the real engine: the checks the API makes, shown at their fields, and the audit entries it writes.</summary>
public sealed class AiPageTests : PageContext
{
    public AiPageTests()
    {
        Services.AddTenantSecrets(Path.Combine(Path.GetTempPath(), "flowgate-portal-tests", "keys-" + Guid.NewGuid().ToString("N")));
        Services.AddSingleton<GatewayMeter>();
        Services.AddSingleton<Saas.Web.OAuth.OAuthClientChanges>();
    }

    private AiSettingsStore Store => Services.GetRequiredService<AiSettingsStore>();

    private IEnumerable<string> AuditActions(string tenant) => Services.GetRequiredService<AuditLog>().Export(tenant, 0, long.MaxValue).Select(e => e.Action);

    [Fact]
    public async Task The_provider_form_shows_the_apis_errors_at_their_fields_and_saves_nothing()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<AiPage>();

        page.Find("#provider-name").Input("bad name!");
        page.Find("#provider-type").Change(ProviderTypes.AzureOpenAi);
        page.Find("#provider-url").Input("http://10.1.2.3/openai");
        await page.Find("[data-testid='provider-form']").SubmitAsync();

        Assert.Contains("1-64 characters", page.Find("[data-path='name']").TextContent);
        Assert.Contains("10.1.2.3", page.Find("[data-path='baseUrl']").TextContent);
        Assert.Contains("deployment name", page.Find("[data-path='deployment']").TextContent);
        Assert.Contains("is required for azure-openai", page.Find("[data-path='apiKey']").TextContent);
        Assert.Empty(Store.ListProviders(tenant));
        Assert.Empty(AuditActions(tenant));
    }

    [Fact]
    public async Task A_saved_providers_key_is_never_shown_and_an_edit_without_a_key_keeps_it()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<AiPage>();

        page.Find("#provider-name").Input("openai");
        page.Find("#provider-key").Input("sk-very-secret-123");
        await page.Find("[data-testid='provider-form']").SubmitAsync();
        Assert.Contains("key set", page.Find("[data-provider='openai']").TextContent);
        Assert.DoesNotContain("sk-very-secret-123", page.Markup);

        await page.Find("button[aria-label='Edit provider openai']").ClickAsync(new MouseEventArgs());
        Assert.Equal("", page.Find("#provider-key").GetAttribute("value") ?? "");
        page.Find("#provider-url").Input("https://api.example.com/v1");
        await page.Find("[data-testid='provider-form']").SubmitAsync();

        var saved = Assert.Single(Store.ListProviders(tenant));
        Assert.Equal("https://api.example.com/v1", saved.BaseUrl);
        Assert.Equal("sk-very-secret-123", Store.RevealApiKey(tenant, saved));
        Assert.DoesNotContain("sk-very-secret-123", page.Markup);
        Assert.Equal(["ai.provider.saved", "ai.provider.saved"], AuditActions(tenant));
    }

    [Fact]
    public async Task An_alias_saves_its_targets_in_the_order_set_and_refuses_an_unknown_provider()
    {
        var tenant = await TenantAsync();
        await Store.SaveProviderAsync(tenant, "main", ProviderTypes.OpenAiCompatible, "https://main.example.com/v1", null, null, CancellationToken.None);
        await Store.SaveProviderAsync(tenant, "backup", ProviderTypes.OpenAiCompatible, "https://backup.example.com/v1", null, null, CancellationToken.None);
        SignIn(tenant, role: "admin");
        var page = Render<AiPage>();

        await page.Find("[data-testid='model-form']").SubmitAsync();
        Assert.Contains("1-64 characters", page.Find("[data-path='alias']").TextContent);
        Assert.Contains("must have a provider and a model", page.Find("[data-path='targets[0]']").TextContent);

        page.Find("#model-alias").Input("fast");
        page.Find("#target-0-provider").Change("main");
        page.Find("#target-0-model").Input("small");
        page.Find("#target-0-in").Change("-1");
        await page.FindAll("button").Single(b => b.TextContent == "Add target").ClickAsync(new MouseEventArgs());
        page.Find("#target-1-provider").Change("backup");
        page.Find("#target-1-model").Input("large");
        await page.Find("[data-testid='model-form']").SubmitAsync();
        Assert.Contains("must not be negative", page.Find("[data-path='targets[0]']").TextContent);

        page.Find("#target-0-in").Change("0.5");
        await page.Find("button[aria-label='Move target 2 up']").ClickAsync(new MouseEventArgs());
        await page.Find("[data-testid='model-form']").SubmitAsync();

        var route = Assert.Single(Store.ListModels(tenant));
        Assert.Equal(["backup/large", "main/small"], route.Targets.Select(t => $"{t.Provider}/{t.Model}"));
        Assert.Equal(0.5m, route.Targets[1].InputPricePerMillion);
        Assert.Contains("backup/large → main/small", page.Find("[data-model='fast']").TextContent);

        await page.Find("button[aria-label='Delete alias fast']").ClickAsync(new MouseEventArgs());
        await page.Find("button[aria-label='Confirm: delete alias fast']").ClickAsync(new MouseEventArgs());
        Assert.Empty(Store.ListModels(tenant));
        Assert.Equal(["ai.model.saved", "ai.model.deleted"], AuditActions(tenant));
    }

    [Fact]
    public async Task Settings_refuse_a_negative_budget_and_save_a_valid_one()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<AiPage>();

        page.Find("#budget").Change("-5");
        await page.Find("[data-testid='settings-form']").SubmitAsync();
        Assert.Contains("must be 0 or more", page.Find("[data-path='monthlyBudgetUsd']").TextContent);

        page.Find("#budget").Change("25");
        page.Find("#cache-ttl").Change("600");
        await page.Find("[data-testid='settings-form']").SubmitAsync();
        var settings = Services.GetRequiredService<AiGatewaySettingsStore>().Get(tenant);
        Assert.Equal(25m, settings.MonthlyBudgetUsd);
        Assert.Equal(600, settings.CacheTtlSeconds);
        Assert.Equal(["ai.settings.saved"], AuditActions(tenant));
    }

    [Fact]
    public async Task The_request_log_shows_calls_newest_first_with_bodies_and_the_months_spend()
    {
        var tenant = await TenantAsync();
        var log = Services.GetRequiredService<AiRequestLog>();
        var now = Clock.GetUtcNow().ToUnixTimeMilliseconds();
        await log.AppendAsync(new AiRequestEntry(tenant, "r1", AiRequestSources.Gateway, null, null, "fast", "main", "small", "chat", 200, false, false, 10, 5, 0.25, 12, null, "{\"q\":1}", "{\"a\":2}", now - 1000), CancellationToken.None);
        await log.AppendAsync(new AiRequestEntry(tenant, "r2", AiRequestSources.Step, null, "run1", "fast", "main", "small", "chat", 502, false, false, 0, 0, 0.5, 30, "upstream failed", null, null, now), CancellationToken.None);
        var other = await TenantAsync("other");
        await log.AppendAsync(new AiRequestEntry(other, "x", AiRequestSources.Gateway, null, null, "fast", "main", "small", "chat", 200, false, false, 1, 1, 9, 1, null, null, null, now), CancellationToken.None);
        SignIn(tenant, role: "viewer");
        var page = Render<AiPage>();

        Assert.Equal(["r2", "r1"], page.FindAll("[data-request]").Select(r => r.GetAttribute("data-request")));
        Assert.Contains("upstream failed", page.Find("[data-request='r2']").TextContent);
        Assert.Contains("{\"a\":2}", page.Find("details").TextContent);
        Assert.Equal("$0.7500", page.Find("[data-testid='spend']").TextContent);
        Assert.Empty(page.FindAll("[data-testid='provider-form']"));
        Assert.Empty(page.FindAll("[data-testid='model-form']"));
    }

    [Fact]
    public async Task An_oauth_clients_secret_is_shown_once_and_revoking_it_is_audited()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<OAuthClientsPage>();

        page.Find("input[type='checkbox']").Change(false);
        await page.Find("form").SubmitAsync();
        Assert.Contains("is required", page.Find("[data-path='name']").TextContent);
        Assert.Contains("at least one", page.Find("[data-path='scopes']").TextContent);

        page.Find("#client-name").Input("crm-sync");
        page.FindAll("input[type='checkbox']")[2].Change(true);
        await page.Find("form").SubmitAsync();
        var secret = page.Find("[data-testid='new-client-secret']").TextContent;
        var clientId = page.Find("[data-testid='new-client-id']").TextContent;
        Assert.NotNull(Services.GetRequiredService<OAuthClientStore>().Authenticate(clientId, secret));
        Assert.Contains(clientId, page.Find("[data-testid='curl']").TextContent);
        Assert.Contains("/connect/token", page.Find("[data-testid='token-endpoint']").TextContent);
        Assert.Contains(Scopes.RunsRead, page.Find($"[data-client='{clientId}']").TextContent);

        var again = Render<OAuthClientsPage>();
        Assert.DoesNotContain(secret, again.Markup);
        Assert.Contains(clientId, again.Find("[data-testid='clients']").TextContent);

        await again.Find("button[aria-label='Revoke crm-sync']").ClickAsync(new MouseEventArgs());
        await again.Find("button[aria-label='Confirm: revoke crm-sync']").ClickAsync(new MouseEventArgs());
        Assert.Contains("revoked", again.Find($"[data-client='{clientId}']").TextContent);
        Assert.Null(Services.GetRequiredService<OAuthClientStore>().Authenticate(clientId, secret));
        Assert.Equal(["oauth_client.created", "oauth_client.revoked"], AuditActions(tenant));
    }

    [Fact]
    public async Task A_public_client_gets_its_redirect_uris_and_no_secret_and_a_bad_uri_is_shown_at_its_field()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<OAuthClientsPage>();

        page.Find("#client-name").Input("notebook");
        page.Find("#client-type").Change(OAuthClientTypes.Public);
        page.Find("#redirect-uris").Input("http://example.com/cb");
        await page.Find("form").SubmitAsync();
        Assert.Contains("use https", page.Find(".validation-message").TextContent);
        Assert.Empty(Services.GetRequiredService<OAuthClientStore>().List(tenant));

        page.Find("#redirect-uris").Input("https://notebook.example.com/cb\nhttp://127.0.0.1:8400/cb");
        await page.Find("form").SubmitAsync();
        var clientId = page.Find("[data-testid='new-client-id']").TextContent;
        var client = Services.GetRequiredService<OAuthClientStore>().FindActive(clientId)!;
        Assert.Empty(page.FindAll("[data-testid='new-client-secret']"));
        Assert.Equal(OAuthClientTypes.Public, client.Type);
        Assert.Equal(["https://notebook.example.com/cb", "http://127.0.0.1:8400/cb"], client.RedirectUris);
        Assert.Contains("https://notebook.example.com/cb", page.Find($"[data-client='{clientId}']").TextContent);
        Assert.Contains("/connect/authorize", page.Find("[data-testid='authorize-endpoint']").TextContent);
    }
}
