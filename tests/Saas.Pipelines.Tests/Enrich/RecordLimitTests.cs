using Microsoft.AspNetCore.Http;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Enrich;

public sealed class RecordLimitTests
{
    [Fact]
    public async Task An_enrichment_that_explodes_a_record_fails_naming_the_limit_and_the_setting()
    {
        await using var server = await LocalServer.StartAsync(context => context.Response.WriteAsJsonAsync(new { blob = new string('x', 600_000) }));
        await using var engine = new EnrichEngine(network => network.MaxResponseBytes = 5_000_000);
        var definition = $$$"""
            {"name":"p","trigger":{"type":"http"},"steps":[
              {"id":"explode","type":"http","url":"{{{server.Url}}}x","fields":{"a":"response.blob","b":"response.blob"}}]}
            """;

        var result = await engine.RunAsync(definition, """[{"id":1},{"id":2}]""");

        Assert.Equal(RunStatus.Failed, result.Run.Status);
        Assert.Contains("step 'explode': output record 1 is 1,200,0", result.Run.Error);
        Assert.Contains("over the limit of 1,048,576 bytes per record (Flowgate:Runtime:MaxRecordBytes)", result.Run.Error);
    }

    [Fact]
    public async Task Records_under_the_limit_pass()
    {
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync("""
            {"name":"p","trigger":{"type":"http"},"steps":[{"id":"grow","type":"map","fields":{"a":"'x'.repeat(500000)"}}]}
            """);
        var run = await engine.StartAsync(tenant, pipeline, """{"id":1}""");
        await engine.DrainAsync();

        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
    }
}
