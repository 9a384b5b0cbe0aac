using Saas.Pipelines.Definitions;
using Saas.Pipelines.Pipelines;

namespace Saas.Pipelines.Tests.Pipelines;

public sealed class PublishedByTestsOnSqlite() : PublishedByTests(Saas.Tests.StoreAdapter.Sqlite);

public sealed class PublishedByTestsOnPostgres() : PublishedByTests(Saas.Tests.StoreAdapter.Postgres);

/// <summary>Written once, run on every database adapter.</summary>
public abstract class PublishedByTests(Saas.Tests.StoreAdapter adapter)
{
    private const string Definition = """{"name":"p","trigger":{"type":"http"},"steps":[{"id":"a","type":"drop","fields":["x"]}]}""";

    [Fact]
    public async Task Each_version_records_who_published_it_and_null_stays_null()
    {
        await using var engine = new Engine(adapter: adapter);
        var (tenant, pipeline) = await engine.CreatePipelineAsync(Definition);
        var store = engine.Get<PipelineStore>();

        await store.PublishAsync(tenant, pipeline.Id, Definition, DefinitionParser.Parse(Definition).Pipeline!, "ann@example.com", CancellationToken.None);
        await store.PublishAsync(tenant, pipeline.Id, Definition, DefinitionParser.Parse(Definition).Pipeline!, "key_123", CancellationToken.None);

        Assert.Equal(["key_123", "ann@example.com", null], store.ListVersions(tenant, pipeline.Id).Select(v => v.PublishedBy));
        Assert.Equal("ann@example.com", store.FindVersion(tenant, pipeline.Id, 2)!.PublishedBy);
    }
}
