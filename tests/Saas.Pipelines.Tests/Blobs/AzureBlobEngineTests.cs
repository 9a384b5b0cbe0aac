using Azure.Storage.Blobs.Models;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Triggers;
using Saas.Tests;

namespace Saas.Pipelines.Tests.Blobs;

/// <summary>A whole pipeline run (upload, split into chunks, steps, sink) with its blobs in Azurite.</summary>
public sealed class AzureBlobEngineTests : IAsyncLifetime
{
    private readonly string _container = Azurite.NewContainerName();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync() => await Azurite.Blobs().GetBlobContainerClient(_container).DeleteIfExistsAsync();

    [Fact]
    public async Task An_uploaded_csv_runs_through_every_step_with_its_input_chunks_and_outputs_in_azure_blob_storage()
    {
        await using var engine = new Engine(services => services.AddSingleton<IBlobStore>(new AzureBlobStore(Azurite.Blobs(), _container, TimeProvider.System)));
        var (tenant, pipeline) = await engine.CreatePipelineAsync("""
            {"name":"orders","trigger":{"type":"upload","format":"csv"},
             "steps":[{"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}},
                      {"id":"big","type":"filter","where":"record.total >= 100"}],
             "sink":{"type":"blob","format":"csv"},
             "settings":{"chunkSize":4000}}
            """);
        var csv = "order,qty,price,note\n" + string.Concat(Enumerable.Range(0, 10_000).Select(i => $"A-{i},{i % 20},10,{new string('n', 30)}\n"));

        var run = await engine.Get<RunStarter>().StartUploadAsync(tenant, pipeline, new MemoryStream(System.Text.Encoding.UTF8.GetBytes(csv)), CancellationToken.None);
        await engine.DrainAsync();

        var finished = engine.Get<RunStore>().Find(tenant, run.Id)!;
        Assert.Equal(RunStatus.Succeeded, finished.Status);
        Assert.Equal(3, finished.ChunksTotal);
        Assert.Equal(5_000, finished.RecordsOut);
        await using var output = await engine.Get<SmallBlobs>().OpenReadAsync(tenant, finished.OutputKey!, CancellationToken.None);
        var lines = (await new StreamReader(output).ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("order,qty,price,note,total", lines[0]);
        Assert.Equal(5_001, lines.Length);

        var names = new List<string>();
        await foreach (var blob in Azurite.Blobs().GetBlobContainerClient(_container).GetBlobsAsync(BlobTraits.None, BlobStates.None, $"{tenant}/runs/{run.Id}/", CancellationToken.None))
        {
            names.Add(blob.Name);
        }
        Assert.Contains(BlobKeys.RunInput(tenant, run.Id, "csv"), names);
        Assert.Contains(BlobKeys.ChunkInput(tenant, run.Id, 2), names);
        Assert.Contains(finished.OutputKey, names);
    }
}
