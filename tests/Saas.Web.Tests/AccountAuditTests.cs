using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

/// <summary>What happens to accounts and billing lands in the tenant's audit log, with where it came from.</summary>
public sealed class AccountAuditTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    private static async Task<List<JsonNode>> EntriesAsync(TenantClient tenant, string action) =>
        JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/audit?action={action}"))!["items"]!.AsArray().Select(e => e!).ToList();

    [Fact]
    public async Task Sign_ins_failed_and_successful_and_sign_outs_are_audited_with_address_and_browser()
    {
        var tenant = await app.CreateTenantAsync();
        var member = await PortalSession.CreateMemberAsync(app, tenant.TenantId, "viewer");
        member.Http.DefaultRequestHeaders.UserAgent.ParseAdd("AuditTest/1.0");

        var failed = await member.SignInAsync(password: "wrong-password");
        var signedIn = await member.SignInAsync();
        var runs = await member.Http.GetStringAsync("/runs");
        var signedOut = await member.Http.PostAsync("/account/signout", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = PortalSession.AntiforgeryToken(runs),
        }));

        Assert.Equal(HttpStatusCode.OK, failed.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedIn.StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        var failure = Assert.Single(await EntriesAsync(tenant, "user.sign_in_failed"));
        Assert.Equal("wrong_password", failure["details"]!["reason"]!.GetValue<string>());
        Assert.Equal(member.UserId, failure["actorId"]!.GetValue<string>());
        Assert.Equal("127.0.0.1", failure["ip"]!.GetValue<string>());
        Assert.Equal("AuditTest/1.0", failure["userAgent"]!.GetValue<string>());
        var success = Assert.Single(await EntriesAsync(tenant, "user.signed_in"));
        Assert.Equal(member.UserId, success["targetId"]!.GetValue<string>());
        Assert.Single(await EntriesAsync(tenant, "user.signed_out"));
    }

    [Fact]
    public async Task A_spending_cap_change_is_audited_and_an_admin_downloads_the_log_from_the_portal_but_a_viewer_cannot()
    {
        var tenant = await app.CreateTenantAsync();
        var cap = await tenant.Http.PutAsJsonAsync("/api/v1/billing/cap", new { monthlyUsd = 25 });
        Assert.True(cap.IsSuccessStatusCode, await cap.Content.ReadAsStringAsync());
        var entry = Assert.Single(await EntriesAsync(tenant, "billing.cap_set"));
        Assert.Equal(25, entry["details"]!["monthlyUsd"]!.GetValue<decimal>());
        Assert.Equal("api_key", entry["actorType"]!.GetValue<string>());

        var admin = await PortalSession.SignInAsync(app, tenant.TenantId, "admin");
        var viewer = await PortalSession.SignInAsync(app, tenant.TenantId, "viewer");
        var export = await admin.Http.GetAsync("/portal/audit/export");
        var refused = await viewer.Http.GetAsync("/portal/audit/export");
        var withKey = await tenant.Http.GetAsync("/portal/audit/export");

        var lines = (await export.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(HttpStatusCode.OK, export.StatusCode);
        Assert.Contains(lines, l => l.Contains("billing.cap_set"));
        Assert.Contains(lines, l => l.Contains("user.signed_in") && l.Contains(admin.UserId));
        Assert.False(refused.IsSuccessStatusCode);
        Assert.DoesNotContain("billing.cap_set", await refused.Content.ReadAsStringAsync());
        Assert.DoesNotContain("billing.cap_set", await withKey.Content.ReadAsStringAsync());
        Assert.NotEqual("application/x-ndjson", withKey.Content.Headers.ContentType?.MediaType);
    }
}
