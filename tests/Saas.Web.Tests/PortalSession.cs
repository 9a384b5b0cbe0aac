using System.Net;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Identity;
using Saas.Pipelines.Tenancy;
using Saas.Web.Portal.Accounts;

namespace Saas.Web.Tests;

/// <summary>
/// A member of a tenant signed in to the portal over HTTP, as a browser would be: the sign-in form (with its
/// antiforgery token) is posted, and the cookies are kept. Redirects are not followed, so tests see them.
/// </summary>
public sealed partial class PortalSession(HttpClient http, string userId, string email, string tenantId, string role)
{
    public const string Password = "Sup3r-Secret!";

    public HttpClient Http { get; } = http;

    public string UserId { get; } = userId;

    public string Email { get; } = email;

    public string TenantId { get; } = tenantId;

    public string Role { get; } = role;

    /// <summary>A new member of <paramref name="tenantId"/> with <paramref name="role"/>, not signed in yet.</summary>
    public static async Task<PortalSession> CreateMemberAsync(FlowgateApp app, string tenantId, string role)
    {
        var email = $"{role}-{Guid.NewGuid():N}@example.com";
        using var scope = app.Services.CreateScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<Account>>();
        var account = new Account();
        await users.SetUserNameAsync(account, email);
        await users.SetEmailAsync(account, email);
        var created = await users.CreateAsync(account, Password);
        Assert.True(created.Succeeded, string.Join("; ", created.Errors.Select(e => e.Description)));
        await app.Services.GetRequiredService<MemberStore>().AddAsync(tenantId, account.Id, role, CancellationToken.None);
        var http = new HttpClient(new HttpClientHandler { CookieContainer = new CookieContainer(), AllowAutoRedirect = false })
        {
            BaseAddress = app.BaseAddress,
            Timeout = TimeSpan.FromSeconds(60),
        };
        return new PortalSession(http, account.Id, email, tenantId, role);
    }

    public static async Task<PortalSession> SignInAsync(FlowgateApp app, string tenantId, string role)
    {
        var session = await CreateMemberAsync(app, tenantId, role);
        var response = await session.SignInAsync();
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return session;
    }

    /// <summary>Posts the sign-in form; the answer redirects to <paramref name="returnUrl"/> (or the runs) when it worked.</summary>
    public async Task<HttpResponseMessage> SignInAsync(string? returnUrl = null, string password = Password)
    {
        var path = "/account/signin" + (returnUrl is null ? "" : $"?ReturnUrl={Uri.EscapeDataString(returnUrl)}");
        var form = await Http.GetStringAsync(path);
        return await Http.PostAsync(path, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "signin",
            ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["Input.Email"] = Email,
            ["Input.Password"] = password,
        }));
    }

    /// <summary>Follows redirects within this site (the answer of the last hop is returned).</summary>
    public async Task<HttpResponseMessage> FollowAsync(HttpResponseMessage response)
    {
        for (var hops = 0; response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther && hops < 10; hops++)
        {
            var location = new Uri(Http.BaseAddress!, response.Headers.Location!);
            if (location.Authority != Http.BaseAddress!.Authority)
            {
                return response;
            }
            response = await Http.GetAsync(location);
        }
        return response;
    }

    public static string AntiforgeryToken(string html) =>
        HiddenFields(html).FirstOrDefault(f => f.Key == "__RequestVerificationToken").Value ?? throw new InvalidOperationException("the page has no antiforgery token");

    public static List<KeyValuePair<string, string>> HiddenFields(string html) =>
        HiddenInput().Matches(html).Select(m => KeyValuePair.Create(WebUtility.HtmlDecode(m.Groups["name"].Value), WebUtility.HtmlDecode(m.Groups["value"].Value))).ToList();

    [GeneratedRegex("<input type=\"hidden\" name=\"(?<name>[^\"]*)\" value=\"(?<value>[^\"]*)\"")]
    private static partial Regex HiddenInput();
}
