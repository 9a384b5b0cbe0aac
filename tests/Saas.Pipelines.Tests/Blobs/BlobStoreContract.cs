using System.Security.Cryptography;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Blobs;
using Saas.Tests;

namespace Saas.Pipelines.Tests.Blobs;

/// <summary>What every <see cref="IBlobStore"/> promises, written once and run against each adapter.</summary>
public abstract class BlobStoreContract : IAsyncLifetime
{
    protected IBlobStore Store { get; private set; } = null!;

    protected abstract Task<IBlobStore> CreateStoreAsync();

    public async Task InitializeAsync() => Store = await CreateStoreAsync();

    public virtual Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task A_blob_reads_back_byte_for_byte_across_many_writes()
    {
        // Larger than one upload block and written in odd-sized pieces, as a step's writer does.
        var data = RandomNumberGenerator.GetBytes(9 * 1024 * 1024 + 17);
        await using (var write = await Store.OpenWriteAsync("t1/runs/r1/input.csv", CancellationToken.None))
        {
            for (var offset = 0; offset < data.Length; offset += 100_003)
            {
                await write.WriteAsync(data.AsMemory(offset, Math.Min(100_003, data.Length - offset)));
            }
        }

        await using var read = await Store.OpenReadAsync("t1/runs/r1/input.csv", CancellationToken.None);
        var copy = new MemoryStream();
        await read.CopyToAsync(copy);
        Assert.Equal(SHA256.HashData(data), SHA256.HashData(copy.ToArray()));
    }

    [Fact]
    public async Task A_write_replaces_the_whole_blob()
    {
        await WriteAsync("t1/runs/r1/output.jsonl", "a much longer first version\n");
        await WriteAsync("t1/runs/r1/output.jsonl", "short\n");

        Assert.Equal("short\n", await ReadAsync("t1/runs/r1/output.jsonl"));
    }

    [Fact]
    public async Task A_blob_appears_only_when_its_write_stream_is_disposed()
    {
        var write = await Store.OpenWriteAsync("t1/runs/r2/output.jsonl", CancellationToken.None);
        await write.WriteAsync("{}\n"u8.ToArray());
        await write.FlushAsync();

        await Assert.ThrowsAsync<FileNotFoundException>(() => Store.OpenReadAsync("t1/runs/r2/output.jsonl", CancellationToken.None));
        await write.DisposeAsync();
        Assert.Equal("{}\n", await ReadAsync("t1/runs/r2/output.jsonl"));
    }

    [Fact]
    public async Task An_empty_blob_exists_and_reads_empty()
    {
        await WriteAsync("t1/runs/r3/output.jsonl", "");

        Assert.Equal("", await ReadAsync("t1/runs/r3/output.jsonl"));
    }

    [Fact]
    public async Task A_missing_blob_is_reported_as_not_found_with_its_key()
    {
        var error = await Assert.ThrowsAsync<FileNotFoundException>(() => Store.OpenReadAsync("t1/runs/none/output.csv", CancellationToken.None));
        Assert.Contains("t1/runs/none/output.csv", error.Message);
    }

    [Fact]
    public async Task A_deleted_blob_is_gone_and_deleting_a_missing_one_is_no_error()
    {
        await WriteAsync("t1/tables/t/tv_1.csv", "id\n1\n");

        await Store.DeleteAsync("t1/tables/t/tv_1.csv", CancellationToken.None);
        await Store.DeleteAsync("t1/tables/t/tv_1.csv", CancellationToken.None);
        await Store.DeleteAsync("t1/nothing/here.csv", CancellationToken.None);

        await Assert.ThrowsAsync<FileNotFoundException>(() => Store.OpenReadAsync("t1/tables/t/tv_1.csv", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.DeleteAsync("../t2/runs/r/input.csv", CancellationToken.None));
    }

    [Fact]
    public async Task Keys_that_climb_out_of_the_store_are_refused()
    {
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenWriteAsync("t1/../t2/runs/r/input.csv", CancellationToken.None));
        await Assert.ThrowsAsync<ArgumentException>(() => Store.OpenReadAsync("../t2/runs/r/input.csv", CancellationToken.None));
    }

    [Fact]
    public async Task Tenants_blobs_with_the_same_run_path_stay_apart()
    {
        await WriteAsync("tA/runs/r/output.csv", "a");
        await WriteAsync("tB/runs/r/output.csv", "b");

        Assert.Equal("a", await ReadAsync("tA/runs/r/output.csv"));
        Assert.Equal("b", await ReadAsync("tB/runs/r/output.csv"));
    }

    protected async Task WriteAsync(string key, string text)
    {
        await using var write = await Store.OpenWriteAsync(key, CancellationToken.None);
        await write.WriteAsync(System.Text.Encoding.UTF8.GetBytes(text));
    }

    protected async Task<string> ReadAsync(string key)
    {
        await using var read = await Store.OpenReadAsync(key, CancellationToken.None);
        return await new StreamReader(read).ReadToEndAsync();
    }
}

public sealed class FolderBlobStoreTests : BlobStoreContract
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "flowgate-blob-tests", Guid.NewGuid().ToString("N"));

    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new FolderBlobStore(Options.Create(new FlowgateOptions { DataDirectory = _directory })));

    public override Task DisposeAsync()
    {
        Directory.Delete(_directory, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Download_links_are_unavailable_with_the_reason_and_the_setting_that_enables_them()
    {
        var link = await Store.CreateDownloadLinkAsync("t1/runs/r/output.csv", TimeSpan.FromMinutes(5), CancellationToken.None);

        Assert.Null(link.Url);
        Assert.Contains("Flowgate:Blobs:Provider=azure", link.UnavailableReason);
    }
}

public sealed class AzureBlobStoreTests : BlobStoreContract
{
    private readonly string _container = Azurite.NewContainerName();

    protected override Task<IBlobStore> CreateStoreAsync() =>
        Task.FromResult<IBlobStore>(new AzureBlobStore(Azurite.Blobs(), _container, TimeProvider.System));

    public override async Task DisposeAsync() => await Azurite.Blobs().GetBlobContainerClient(_container).DeleteIfExistsAsync();

    [Fact]
    public async Task Every_blob_lives_in_the_one_container_under_its_tenant_prefix()
    {
        await WriteAsync("tA/runs/r/output.csv", "a");
        await WriteAsync("tB/runs/r/output.csv", "b");

        var container = Azurite.Blobs().GetBlobContainerClient(_container);
        var tenantA = new List<string>();
        await foreach (var blob in container.GetBlobsAsync(Azure.Storage.Blobs.Models.BlobTraits.None, Azure.Storage.Blobs.Models.BlobStates.None, "tA/", CancellationToken.None))
        {
            tenantA.Add(blob.Name);
        }
        Assert.Equal(["tA/runs/r/output.csv"], tenantA);
    }

    [Fact]
    public async Task A_download_link_reads_the_blob_until_it_expires()
    {
        await WriteAsync("t1/runs/r/output.csv", "order,total\nA-1,150\n");
        using var http = new HttpClient();

        var link = await Store.CreateDownloadLinkAsync("t1/runs/r/output.csv", TimeSpan.FromSeconds(2), CancellationToken.None);

        Assert.NotNull(link.Url);
        Assert.Contains("sp=r", link.Url!.Query);
        Assert.Equal("order,total\nA-1,150\n", await http.GetStringAsync(link.Url));
        await Task.Delay(TimeSpan.FromSeconds(3.5));
        var expired = await http.GetAsync(link.Url);
        Assert.Equal(System.Net.HttpStatusCode.Forbidden, expired.StatusCode);
    }

    [Fact]
    public async Task A_download_link_reads_only_its_own_blob()
    {
        await WriteAsync("tA/runs/r/output.csv", "a");
        await WriteAsync("tB/runs/r/output.csv", "b");
        var link = await Store.CreateDownloadLinkAsync("tA/runs/r/output.csv", TimeSpan.FromMinutes(5), CancellationToken.None);
        using var http = new HttpClient();

        var other = new UriBuilder(link.Url!) { Path = link.Url!.AbsolutePath.Replace("/tA/", "/tB/", StringComparison.Ordinal) }.Uri;

        Assert.Equal(System.Net.HttpStatusCode.Forbidden, (await http.GetAsync(other)).StatusCode);
    }
}
