using System.Text;
using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Tests.Formats;

[CollectionDefinition(nameof(LargeInputTests), DisableParallelization = true)]
public sealed class LargeInputCollection;

/// <summary>
/// Runs alone so that the process-wide allocation counter measures only the split: streaming means the
/// split allocates a small, fixed amount however large the file is.
/// </summary>
[Collection(nameof(LargeInputTests))]
public sealed class LargeInputTests : IDisposable
{
    private const int Rows = 400_000;
    private readonly string folder = Directory.CreateTempSubdirectory("flowgate-formats-").FullName;

    [Fact]
    public async Task Multi_megabyte_csv_file_splits_into_files_without_being_held_in_memory()
    {
        var input = Path.Combine(folder, "input.csv");
        await using (var writer = new StreamWriter(input, append: false, new UTF8Encoding(false)))
        {
            await writer.WriteAsync("id,name,email,amount,note\r\n");
            for (var i = 0; i < Rows; i++)
            {
                await writer.WriteAsync($"{i},Customer {i},c{i}@example.com,{i * 1.5},\"quoted, with \"\"comma\"\"\"\r\n");
            }
        }
        var inputBytes = new FileInfo(input).Length;
        Assert.True(inputBytes > 20_000_000);

        var before = GC.GetTotalAllocatedBytes(precise: true);
        SplitResult result;
        await using (var stream = new FileStream(input, FileMode.Open, FileAccess.Read, FileShare.Read, 4096, FileOptions.Asynchronous))
        {
            result = await InputSplitter.SplitAsync(stream, InputFormat.Csv, ',', 150_000, OpenChunk, CancellationToken.None);
        }
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - before;

        Assert.Equal(new SplitResult(3, Rows), result);
        Assert.True(allocated < 8_000_000, $"splitting {inputBytes:N0} bytes allocated {allocated:N0} bytes");
        long recordsRead = 0;
        for (var chunk = 0; chunk < result.Chunks; chunk++)
        {
            await using var stream = File.OpenRead(ChunkPath(chunk));
            await foreach (var record in ChunkReader.ReadCsvAsync(stream, ',', CancellationToken.None))
            {
                if (recordsRead++ == Rows - 1)
                {
                    Assert.Equal($"c{Rows - 1}@example.com", record["email"]);
                    Assert.Equal("quoted, with \"comma\"", record["note"]);
                }
            }
        }
        Assert.Equal(Rows, recordsRead);
    }

    public void Dispose() => Directory.Delete(folder, recursive: true);

    private Task<Stream> OpenChunk(int index, CancellationToken ct) =>
        Task.FromResult<Stream>(new FileStream(ChunkPath(index), FileMode.Create, FileAccess.Write, FileShare.None, 4096, FileOptions.Asynchronous));

    private string ChunkPath(int index) => Path.Combine(folder, $"chunk-{index:D4}.csv");
}
