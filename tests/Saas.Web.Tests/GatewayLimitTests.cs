using System.Net;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class LimitedFlowgateApp : FlowgateApp
{
    protected override string[] ExtraArguments => ["--Flowgate:Gateway:RequestsPerMinutePerKey=3"];
}

public sealed class GatewayLimitTests(LimitedFlowgateApp app) : IClassFixture<LimitedFlowgateApp>
{
    [Fact]
    public async Task A_key_over_its_requests_per_minute_gets_openais_429_with_retry_after_and_other_tenants_are_unaffected()
    {
        var noisy = await app.CreateTenantAsync("noisy");
        var quiet = await app.CreateTenantAsync("quiet");

        var answers = new List<HttpResponseMessage>();
        for (var i = 0; i < 4; i++)
        {
            answers.Add(await noisy.Http.GetAsync("/v1/models"));
        }
        var other = await quiet.Http.GetAsync("/v1/models");

        Assert.All(answers.Take(3), a => Assert.Equal(HttpStatusCode.OK, a.StatusCode));
        Assert.Equal(HttpStatusCode.TooManyRequests, answers[3].StatusCode);
        Assert.True(int.Parse(answers[3].Headers.GetValues("Retry-After").Single()) >= 1);
        Assert.Equal("rate_limit_exceeded", JsonNode.Parse(await answers[3].Content.ReadAsStringAsync())!["error"]!["code"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, other.StatusCode);
    }
}
