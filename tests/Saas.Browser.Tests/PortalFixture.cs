using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Saas.Pipelines.Tenancy;
using Saas.Web.Portal.Accounts;
using Saas.Web.Tests;

namespace Saas.Browser.Tests;

/// <summary>
/// One real Flowgate host and one headless Debian Chromium (driven by Playwright through its executable
/// path; never `playwright install`) shared by the tests of a collection. Each test takes its own browser
/// context and its own tenant, so tests never see each other's state.
/// </summary>
public sealed class PortalFixture : IAsyncLifetime
{
    public const string Password = "Sup3r-Secret!";

    private IPlaywright? _playwright;

    public FlowgateApp App { get; } = new();

    public IBrowser Browser { get; private set; } = null!;

    /// <summary>Where each main page's screenshot is saved for a reviewer to look at.</summary>
    public static string ScreenshotFolder { get; } = Path.Combine(AppContext.BaseDirectory, "screenshots");

    public async Task InitializeAsync()
    {
        var chromium = ServiceVariable("CHROMIUM_PATH", "tests/services/20-chromium.sh");
        Assert.True(File.Exists(chromium), $"CHROMIUM_PATH={chromium} does not exist; run tests/services/20-chromium.sh (./test.sh does).");
        await App.InitializeAsync();
        // The first page a cold host renders pays for loading and compiling the portal (seconds on a busy
        // machine); pay it here, outside every test's 15 s budget.
        using (var warmUp = App.Client())
        {
            warmUp.Timeout = TimeSpan.FromMinutes(2);
            (await warmUp.GetAsync("/account/signup")).EnsureSuccessStatusCode();
            (await warmUp.GetAsync("/.well-known/openid-configuration")).EnsureSuccessStatusCode();
        }
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        Directory.CreateDirectory(ScreenshotFolder);
    }

    public async Task<IPage> NewPageAsync()
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = App.BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = 1366, Height = 900 },
        });
        context.SetDefaultTimeout(30_000);
        // dotnet test runs the test projects side by side on 2 cores: a circuit can answer a click slowly, and a fresh host compiles its first pages.
        context.SetDefaultNavigationTimeout(45_000);
        // The same for what a page shows after an action (an upload, a save): Playwright's 5 s was missed once on a loaded machine.
        Assertions.SetDefaultExpectTimeout(20_000);
        return await context.NewPageAsync();
    }

    /// <summary>Signs up a new organisation (its owner) and returns on the runs page.</summary>
    public async Task<IPage> SignUpAsync(string email, string organisation)
    {
        var page = await NewPageAsync();
        await page.GotoAsync("account/signup");
        await page.GetByLabel("Organisation name").FillAsync(organisation);
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password", new() { Exact = true }).FillAsync(Password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign up" }).ClickAsync();
        await page.WaitForURLAsync(new Regex("/runs$"));
        return page;
    }

    /// <summary>An API client of the tenant the portal user belongs to (a key made for the test, as an app would have).</summary>
    public async Task<TenantClient> ApiClientAsync(string email)
    {
        using var scope = App.Services.CreateScope();
        var account = await scope.ServiceProvider.GetRequiredService<UserManager<Account>>().FindByEmailAsync(email);
        var tenantId = App.Services.GetRequiredService<MemberStore>().FindByUser(account!.Id)!.TenantId;
        var key = await App.Services.GetRequiredService<TenantStore>().CreateApiKeyAsync(tenantId, "browser-tests", CancellationToken.None);
        return new TenantClient(tenantId, App.Client(key.Secret));
    }

    /// <summary>The account id of a portal user, as audit entries name them.</summary>
    public async Task<string> UserIdAsync(string email)
    {
        using var scope = App.Services.CreateScope();
        return (await scope.ServiceProvider.GetRequiredService<UserManager<Account>>().FindByEmailAsync(email))!.Id;
    }

    /// <summary>The entries of one audit action, newest first, read as a tenant's app reads them: <c>GET /api/v1/audit</c>.</summary>
    public static async Task<List<System.Text.Json.Nodes.JsonNode>> AuditAsync(TenantClient api, string action) =>
        System.Text.Json.Nodes.JsonNode.Parse(await api.Http.GetStringAsync($"/api/v1/audit?action={action}"))!["items"]!.AsArray().Select(e => e!).ToList();

    /// <summary>The link of the newest e-mail to <paramref name="to"/> in the pickup folder, waiting for it to arrive.</summary>
    public async Task<string> LinkFromMailAsync(string to)
    {
        var folder = Path.Combine(App.DataDirectory, "mail");
        for (var deadline = DateTime.UtcNow.AddSeconds(15); ; await Task.Delay(100))
        {
            var mail = Directory.Exists(folder)
                ? Directory.GetFiles(folder, "*.eml").Order().Select(File.ReadAllText).LastOrDefault(text => text.Contains($"To: {to}\r\n", StringComparison.Ordinal))
                : null;
            if (mail is not null)
            {
                return Regex.Match(mail, @"http://\S+/account/reset-password\?\S+").Value;
            }
            Assert.True(DateTime.UtcNow < deadline, $"no e-mail to {to} arrived in {folder}");
        }
    }

    public static async Task SignInAsync(IPage page, string email, string password = Password)
    {
        await page.GotoAsync("account/signin");
        await page.GetByLabel("E-mail").FillAsync(email);
        await page.GetByLabel("Password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>
    /// Loads a page and waits until its Blazor circuit has rendered it, so typing and clicks reach the
    /// interactive components (what is typed into the prerendered page before that would be lost).
    /// </summary>
    public static async Task GotoInteractiveAsync(IPage page, string path)
    {
        await page.GotoAsync(path);
        await page.Locator("[data-interactive=true]").WaitForAsync(new() { State = WaitForSelectorState.Attached });
    }

    /// <summary>
    /// Chooses a file in a Blazor <c>InputFile</c> once the circuit has initialised it. Until then the input has no change
    /// listener and a choice is lost; on a loaded machine that can come a moment after the page has turned interactive.
    /// </summary>
    public static async Task ChooseFileAsync(ILocator input, FilePayload file)
    {
        await Assertions.Expect(input).ToHaveJSPropertyAsync("_blazorInputFileNextFileId", 0);
        await input.SetInputFilesAsync(file);
    }

    public static async Task ScreenshotAsync(IPage page, string name)
    {
        // From the top: a full-page capture draws the fixed app bar wherever the page was scrolled to.
        await page.EvaluateAsync("window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ScreenshotFolder, name + ".png"), FullPage = true });
    }

    /// <summary>What a service script exported: from the environment (./test.sh) or its .env file.</summary>
    private static string ServiceVariable(string name, string script)
    {
        if (Environment.GetEnvironmentVariable(name) is { Length: > 0 } value)
        {
            return value;
        }
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            var env = Path.Combine(directory.FullName, "tests", "services", ".env");
            if (File.Exists(env) && File.ReadLines(env).FirstOrDefault(l => l.StartsWith(name + "=", StringComparison.Ordinal)) is { } line)
            {
                return line[(name.Length + 1)..];
            }
        }
        Assert.Fail($"{name} is not set: run {script} (./test.sh runs it) to install and export it.");
        return "";
    }

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.DisposeAsync();
        }
        _playwright?.Dispose();
        await App.DisposeAsync();
    }
}

/// <summary>Accounts, members and keys: one host and one browser, in parallel with <see cref="RunsCollection"/>.</summary>
[CollectionDefinition(Name)]
public sealed class PortalCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "portal";
}

/// <summary>Runs, uploads and isolation: a second host and browser, so the two halves of the suite run at once.</summary>
[CollectionDefinition(Name)]
public sealed class RunsCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "runs";
}

/// <summary>Issue 3's whole story (<see cref="StoryTests"/>): a third host and browser, so the long story runs beside the other two.</summary>
[CollectionDefinition(Name)]
public sealed class StoryCollection : ICollectionFixture<PortalFixture>
{
    public const string Name = "story";
}
