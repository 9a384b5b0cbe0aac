using System.Net;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class UsageTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task Usage_counts_each_step_execution_once_per_meter_pipeline_and_day_and_only_for_its_tenant()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        var twoSteps = new
        {
            name = "p",
            trigger = new { type = "http" },
            steps = new object[] { new { id = "s1", type = "select", fields = new[] { "x" } }, new { id = "s2", type = "rename", fields = new Dictionary<string, string> { ["x"] = "y" } } },
        };
        var pipeline = await a.CreatePipelineAsync(twoSteps);
        await a.RunAndWaitAsync(pipeline, new { x = 1 });
        await a.RunAndWaitAsync(pipeline, new[] { new { x = 2 }, new { x = 3 } });

        var byMeter = await UsageAsync(a, "meter");
        var byPipeline = await UsageAsync(a, "pipeline");
        var byDay = await UsageAsync(a, "day");

        Assert.Equal(4, Quantity(byMeter, "step_executions", null));
        Assert.Equal(4, Quantity(byPipeline, "step_executions", pipeline));
        Assert.Equal(4, Quantity(byDay, "step_executions", DateTime.UtcNow.ToString("yyyy-MM-dd")));
        Assert.Empty((await UsageAsync(b, "meter"))["items"]!.AsArray());
    }

    [Theory]
    [InlineData("groupBy=color")]
    [InlineData("from=2026-02-01&to=2026-01-01")]
    [InlineData("from=2024-01-01&to=2026-01-01")]
    public async Task Bad_usage_queries_say_what_to_fix(string query)
    {
        var tenant = await app.CreateTenantAsync();

        var response = await tenant.Http.GetAsync($"/api/v1/usage?{query}");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.NotNull(JsonNode.Parse(await response.Content.ReadAsStringAsync())!["detail"]);
    }

    private static async Task<JsonNode> UsageAsync(TenantClient tenant, string groupBy) =>
        JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/usage?groupBy={groupBy}"))!;

    private static long Quantity(JsonNode usage, string meter, string? group) =>
        usage["items"]!.AsArray().Single(i => i!["meter"]!.GetValue<string>() == meter && i["group"]?.GetValue<string>() == group)!["quantity"]!.GetValue<long>();
}
