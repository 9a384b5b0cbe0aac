using System.Text;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Formats;

/// <summary>A chunk store in memory: what the splitter wrote, readable after the chunk streams were disposed.</summary>
internal sealed class InMemoryChunks
{
    private readonly List<MemoryStream> chunks = [];

    public int Count => chunks.Count;

    public Task<Stream> Open(int index, CancellationToken ct)
    {
        Assert.Equal(chunks.Count, index);
        var stream = new MemoryStream();
        chunks.Add(stream);
        return Task.FromResult<Stream>(stream);
    }

    public string Text(int index) => Encoding.UTF8.GetString(chunks[index].ToArray());

    public byte[] Bytes(int index) => chunks[index].ToArray();

    public static async Task<(SplitResult Result, InMemoryChunks Chunks)> SplitAsync(
        string input, InputFormat format, int recordsPerChunk = 1000, char delimiter = ',') =>
        await SplitAsync(Encoding.UTF8.GetBytes(input), format, recordsPerChunk, delimiter);

    public static async Task<(SplitResult Result, InMemoryChunks Chunks)> SplitAsync(
        byte[] input, InputFormat format, int recordsPerChunk = 1000, char delimiter = ',')
    {
        var chunks = new InMemoryChunks();
        var result = await InputSplitter.SplitAsync(
            new MemoryStream(input), format, delimiter, recordsPerChunk, chunks.Open, CancellationToken.None);
        Assert.Equal(result.Chunks, chunks.Count);
        return (result, chunks);
    }

    public static async Task<MalformedInputException> SplitFailsAsync(string input, InputFormat format, char delimiter = ',') =>
        await SplitFailsAsync(Encoding.UTF8.GetBytes(input), format, delimiter);

    public static async Task<MalformedInputException> SplitFailsAsync(byte[] input, InputFormat format, char delimiter = ',') =>
        await Assert.ThrowsAsync<MalformedInputException>(() => SplitAsync(input, format, 1000, delimiter));

    public static async Task<List<Record>> ReadCsvAsync(string chunk, char delimiter = ',')
    {
        var records = new List<Record>();
        await foreach (var record in ChunkReader.ReadCsvAsync(new MemoryStream(Encoding.UTF8.GetBytes(chunk)), delimiter, CancellationToken.None))
        {
            records.Add(record);
        }
        return records;
    }

    public static async Task<List<Record>> ReadJsonlAsync(string chunk)
    {
        var records = new List<Record>();
        await foreach (var record in ChunkReader.ReadJsonlAsync(new MemoryStream(Encoding.UTF8.GetBytes(chunk)), CancellationToken.None))
        {
            records.Add(record);
        }
        return records;
    }
}
