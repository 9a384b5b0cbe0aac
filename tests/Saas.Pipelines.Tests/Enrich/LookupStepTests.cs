using System.Text;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Tables;

namespace Saas.Pipelines.Tests.Enrich;

public sealed class LookupStepTests
{
    private const string Definition = """
        {"name":"p","trigger":{"type":"http"},"steps":[
          {"id":"tier","type":"lookup","table":"customers","on":{"id":"id"},"fields":{"tier":"tier"}}]}
        """;

    [Fact]
    public async Task A_run_uses_the_table_version_that_was_newest_when_it_was_created()
    {
        await using var engine = new EnrichEngine();
        var (tenant, pipeline) = await engine.Engine.CreatePipelineAsync(Definition);
        var tables = engine.Get<ReferenceTables>();
        await tables.UploadAsync(tenant, "customers", InputFormat.Csv, new MemoryStream(Encoding.UTF8.GetBytes("id,tier\n1,gold\n")), CancellationToken.None);
        var before = await engine.Engine.StartAsync(tenant, pipeline, """{"id":"1"}""");
        await Task.Delay(5);
        await tables.UploadAsync(tenant, "customers", InputFormat.Csv, new MemoryStream(Encoding.UTF8.GetBytes("id,tier\n1,platinum\n")), CancellationToken.None);
        var after = await engine.Engine.StartAsync(tenant, pipeline, """{"id":"1"}""");

        await engine.Engine.DrainAsync();

        Assert.Contains("\"tier\":\"gold\"", await OutputAsync(engine, tenant, before.Id));
        Assert.Contains("\"tier\":\"platinum\"", await OutputAsync(engine, tenant, after.Id));
    }

    [Fact]
    public async Task A_column_the_table_does_not_have_fails_the_run_naming_it_and_the_columns_it_has()
    {
        await using var engine = new EnrichEngine();
        var (tenant, pipeline) = await engine.Engine.CreatePipelineAsync(Definition.Replace("\"tier\":\"tier\"", "\"tier\":\"level\""));
        await engine.Get<ReferenceTables>().UploadAsync(tenant, "customers", InputFormat.Csv, new MemoryStream(Encoding.UTF8.GetBytes("id,tier\n1,gold\n")), CancellationToken.None);
        var run = await engine.Engine.StartAsync(tenant, pipeline, """{"id":"1"}""");

        await engine.Engine.DrainAsync();

        var failed = engine.Get<RunStore>().Find(tenant, run.Id)!;
        Assert.Equal(RunStatus.Failed, failed.Status);
        Assert.Contains("the reference table 'customers' (version 1) has no column 'level'; its columns are id, tier", failed.Error);
    }

    private static async Task<string> OutputAsync(EnrichEngine engine, string tenant, string runId)
    {
        var run = engine.Get<RunStore>().Find(tenant, runId)!;
        Assert.Equal(RunStatus.Succeeded, run.Status);
        await using var stream = await engine.Get<Saas.Pipelines.Blobs.SmallBlobs>().OpenReadAsync(tenant, run.OutputKey!, CancellationToken.None);
        return await new StreamReader(stream).ReadToEndAsync();
    }
}
