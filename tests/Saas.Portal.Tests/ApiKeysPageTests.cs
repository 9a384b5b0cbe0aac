using Saas.Pipelines.Audit;
using Saas.Pipelines.Tenancy;
using Saas.Web.Components.ApiKeys;
using Saas.Web.Tenancy;

namespace Saas.Portal.Tests;

public sealed class ApiKeysPageTests : PageContext
{
    public ApiKeysPageTests() => Services.AddSingleton<ApiKeyChanges>();

    [Fact]
    public async Task An_admin_limits_a_new_key_to_chosen_scopes_and_the_creation_is_audited()
    {
        var tenant = await TenantAsync();
        SignIn(tenant, role: "admin");
        var page = Render<Saas.Web.Components.ApiKeys.ApiKeys>();

        page.Find("#key-name").Input("reader");
        page.Find("#full-access").Change(false);
        page.Find("input[data-scope='pipelines:read']").Change(false);
        await page.Find("form").SubmitAsync();

        var secret = page.Find("[data-testid='new-key']").TextContent;
        var identity = Services.GetRequiredService<TenantStore>().FindApiKey(secret)!;
        Assert.Equal([Scopes.RunsRead], identity.Scopes);
        Assert.Contains("runs:read", page.Find($"[data-key='{identity.KeyId}']").TextContent);
        Assert.Contains("full access", page.Find("[data-testid='keys']").TextContent);
        Assert.Contains("api_key.created", Services.GetRequiredService<AuditLog>().Export(tenant, 0, long.MaxValue).Select(e => e.Action));

        page.Find("#key-name").Input("none");
        page.Find("#full-access").Change(false);
        page.Find("input[data-scope='runs:read']").Change(false);
        page.Find("input[data-scope='pipelines:read']").Change(false);
        await page.Find("form").SubmitAsync();
        Assert.Contains("at least one", page.Find("[data-path='scopes']").TextContent);
    }
}
