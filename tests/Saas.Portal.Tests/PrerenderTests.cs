using System.Net;
using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using MudBlazor.Services;
using Saas.Pipelines;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Tenancy;
using Saas.Web.Components.Pipelines;

namespace Saas.Portal.Tests;

/// <summary>The builder's pages prerendered by a real Kestrel host: what a browser's first request gets.</summary>
public sealed class PrerenderTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowgate-portal-tests", Guid.NewGuid().ToString("N"));
    private WebApplication _app = null!;
    private HttpClient _client = null!;

    public async Task InitializeAsync()
    {
        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Configuration["Flowgate:DataDirectory"] = _directory;
        builder.Services.AddPipelines();
        builder.Services.AddPipelineBuilder();
        builder.Services.AddMudServices();
        builder.Services.AddRazorComponents().AddInteractiveServerComponents();
        builder.Services.AddAuthentication(TestUser.SchemeName).AddScheme<AuthenticationSchemeOptions, TestUser>(TestUser.SchemeName, null);
        builder.Services.AddAuthorizationBuilder().AddPolicy("viewer", p => p.RequireAuthenticatedUser());
        builder.Services.AddCascadingAuthenticationState();
        _app = builder.Build();
        _app.UseAuthentication();
        _app.UseAuthorization();
        _app.UseAntiforgery();
        _app.MapRazorComponents<TestApp>().AddInteractiveServerRenderMode().AddAdditionalAssemblies(typeof(PipelinesPage).Assembly);
        await _app.StartAsync();
        var address = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        _client = new HttpClient { BaseAddress = new Uri(address) };
    }

    [Fact]
    public async Task A_pipeline_of_another_tenant_answers_404_and_shows_nothing_of_it()
    {
        var owner = await TenantAsync("owner");
        var pipeline = await PipelineAsync(owner, "owners-secret-pipeline");
        var intruder = await TenantAsync("intruder");

        foreach (var path in new[] { $"/pipelines/{pipeline.Id}", $"/pipelines/{pipeline.Id}/versions", "/pipelines/pl_does_not_exist" })
        {
            var answer = await GetAsync(path, intruder);
            var html = await answer.Content.ReadAsStringAsync();
            Assert.True(answer.StatusCode == HttpStatusCode.NotFound, $"{path}: {answer.StatusCode}");
            Assert.Contains("Nothing at this address", html);
            Assert.DoesNotContain("owners-secret-pipeline", html);
        }
        Assert.DoesNotContain("owners-secret-pipeline", await (await GetAsync("/pipelines", intruder)).Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task The_owners_pages_prerender_with_the_pipeline_and_its_versions()
    {
        var owner = await TenantAsync("owner");
        var pipeline = await PipelineAsync(owner, "orders-cleaner");

        var builderPage = await GetAsync($"/pipelines/{pipeline.Id}", owner);
        var versions = await GetAsync($"/pipelines/{pipeline.Id}/versions", owner);
        var list = await GetAsync("/pipelines", owner);
        var created = await GetAsync("/pipelines/new", owner);

        Assert.Equal(HttpStatusCode.OK, builderPage.StatusCode);
        Assert.Contains("orders-cleaner", await builderPage.Content.ReadAsStringAsync());
        Assert.Contains("Run test", await builderPage.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, versions.StatusCode);
        Assert.Contains("ann@example.com", await versions.Content.ReadAsStringAsync());
        Assert.Contains("orders-cleaner", await list.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.OK, created.StatusCode);
        Assert.Contains("New pipeline", await created.Content.ReadAsStringAsync());
    }

    private async Task<HttpResponseMessage> GetAsync(string path, string tenantId)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add(TestUser.TenantHeader, tenantId);
        return await _client.SendAsync(request);
    }

    private async Task<string> TenantAsync(string name) =>
        (await _app.Services.GetRequiredService<TenantStore>().CreateTenantAsync(name, CancellationToken.None)).Tenant.Id;

    private async Task<PipelineRow> PipelineAsync(string tenantId, string name)
    {
        var definition = PageContext.Definition(name);
        return await _app.Services.GetRequiredService<PipelineStore>().CreateAsync(tenantId, definition, DefinitionParser.Parse(definition).Pipeline!, "ann@example.com", CancellationToken.None);
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    /// <summary>Signs the request in as a builder of the tenant its header names, with the claims portal-shell's cookie carries.</summary>
    private sealed class TestUser(IOptionsMonitor<AuthenticationSchemeOptions> options, ILoggerFactory logger, UrlEncoder encoder)
        : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
    {
        public const string SchemeName = "test";
        public const string TenantHeader = "X-Test-Tenant";

        protected override Task<AuthenticateResult> HandleAuthenticateAsync()
        {
            if (Request.Headers[TenantHeader].FirstOrDefault() is not { } tenant)
            {
                return Task.FromResult(AuthenticateResult.NoResult());
            }
            var identity = new ClaimsIdentity(
                [new Claim("tenant", tenant), new Claim(ClaimTypes.NameIdentifier, "user-1"), new Claim(ClaimTypes.Email, "ann@example.com"), new Claim(ClaimTypes.Role, "builder")],
                SchemeName);
            return Task.FromResult(AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), SchemeName)));
        }
    }
}
