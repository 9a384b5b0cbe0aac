using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json.Nodes;

namespace Saas.Web.Tests;

public sealed class IsolationTests(FlowgateApp app) : IClassFixture<FlowgateApp>
{
    [Fact]
    public async Task Tenant_B_gets_404_on_everything_of_tenant_A_and_sees_none_of_it_in_lists()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        var definition = new { name = "secret", trigger = new { type = "http" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } };
        var pipeline = await a.CreatePipelineAsync(definition);
        var run = (await a.RunAndWaitAsync(pipeline, new { x = "a's data" }))["id"]!.GetValue<string>();

        var attempts = new (string Method, string Path, HttpContent? Body)[]
        {
            ("GET", $"/api/v1/pipelines/{pipeline}", null),
            ("PUT", $"/api/v1/pipelines/{pipeline}", JsonContent.Create(definition)),
            ("GET", $"/api/v1/pipelines/{pipeline}/versions", null),
            ("GET", $"/api/v1/pipelines/{pipeline}/versions/1", null),
            ("POST", $"/api/v1/pipelines/{pipeline}/pause", null),
            ("POST", $"/api/v1/pipelines/{pipeline}/resume", null),
            ("POST", $"/api/v1/pipelines/{pipeline}/runs", JsonContent.Create(new { x = 1 })),
            ("POST", $"/api/v1/pipelines/{pipeline}/uploads", new StringContent("x\n1\n", Encoding.UTF8, "text/csv")),
            ("GET", $"/api/v1/runs/{run}", null),
            ("GET", $"/api/v1/runs/{run}/output", null),
            ("GET", $"/api/v1/runs/{run}/steps/s/output", null),
            ("POST", $"/api/v1/runs/{run}/replay", null),
            ("POST", $"/api/v1/runs/{run}/cancel", null),
        };
        foreach (var (method, path, body) in attempts)
        {
            var response = await b.Http.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = body });
            Assert.True(response.StatusCode == HttpStatusCode.NotFound, $"{method} {path} answered {(int)response.StatusCode}");
            Assert.DoesNotContain("a's data", await response.Content.ReadAsStringAsync());
        }

        Assert.Empty(JsonNode.Parse(await b.Http.GetStringAsync("/api/v1/pipelines"))!["items"]!.AsArray());
        Assert.Empty(JsonNode.Parse(await b.Http.GetStringAsync("/api/v1/runs"))!["items"]!.AsArray());
        Assert.Empty(JsonNode.Parse(await b.Http.GetStringAsync($"/api/v1/runs?pipelineId={pipeline}"))!["items"]!.AsArray());

        var still = await a.GetRunAsync(run);
        Assert.Equal("succeeded", still["status"]!.GetValue<string>());
        Assert.Equal(1, JsonNode.Parse(await a.Http.GetStringAsync($"/api/v1/pipelines/{pipeline}"))!["version"]!.GetValue<long>());
    }

    [Fact]
    public async Task Queue_messages_of_tenant_B_never_start_tenant_A_pipelines()
    {
        var a = await app.CreateTenantAsync("a");
        var b = await app.CreateTenantAsync("b");
        var definition = new { name = "q", trigger = new { type = "queue", queue = "shared-name" }, steps = new object[] { new { id = "s", type = "select", fields = new[] { "x" } } } };
        var pipelineOfA = await a.CreatePipelineAsync(definition);
        var pipelineOfB = await b.CreatePipelineAsync(definition);

        var posted = JsonNode.Parse(await (await b.Http.PostAsJsonAsync("/api/v1/queues/shared-name/messages", new { x = 1 })).Content.ReadAsStringAsync())!;
        var runOfB = await WaitForFirstRunAsync(b, pipelineOfB);
        await b.WaitForRunAsync(runOfB);

        Assert.Equal(1, posted["pipelines"]!.GetValue<int>());
        Assert.Empty(JsonNode.Parse(await a.Http.GetStringAsync($"/api/v1/runs?pipelineId={pipelineOfA}"))!["items"]!.AsArray());
        Assert.Empty(JsonNode.Parse(await a.Http.GetStringAsync("/api/v1/runs"))!["items"]!.AsArray());
    }

    private static async Task<string> WaitForFirstRunAsync(TenantClient tenant, string pipelineId)
    {
        for (var i = 0; i < 1200; i++)
        {
            var items = JsonNode.Parse(await tenant.Http.GetStringAsync($"/api/v1/runs?pipelineId={pipelineId}"))!["items"]!.AsArray();
            if (items.Count > 0)
            {
                return items[0]!["id"]!.GetValue<string>();
            }
            await Task.Delay(50);
        }
        throw new TimeoutException($"no run of {pipelineId} appeared");
    }
}
