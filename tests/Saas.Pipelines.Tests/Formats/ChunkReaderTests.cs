using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Formats;

public sealed class ChunkReaderTests
{
    [Fact]
    public async Task Csv_chunk_reads_as_string_records_in_header_order()
    {
        var records = await InMemoryChunks.ReadCsvAsync("zeta,alpha,\"mid dle\"\n1,2.5,\"x\"\"y\"\n,,\n");

        Assert.Equal(2, records.Count);
        Assert.Equal(["zeta", "alpha", "mid dle"], records[0].Keys);
        Assert.Equal("1", records[0]["zeta"]);
        Assert.Equal("2.5", records[0]["alpha"]);
        Assert.Equal("x\"y", records[0]["mid dle"]);
        Assert.All(records[1].Values, v => Assert.Equal("", v));
    }

    [Fact]
    public async Task Empty_csv_chunk_reads_as_no_records()
    {
        Assert.Empty(await InMemoryChunks.ReadCsvAsync(""));
    }

    [Fact]
    public async Task Csv_chunk_does_not_dispose_its_stream()
    {
        var stream = new MemoryStream("a\n1\n"u8.ToArray());

        await foreach (var _ in ChunkReader.ReadCsvAsync(stream, ',', CancellationToken.None))
        {
        }

        Assert.True(stream.CanRead);
    }

    [Fact]
    public async Task Jsonl_chunk_reads_records_with_nested_values()
    {
        var records = await InMemoryChunks.ReadJsonlAsync("{\"a\":1,\"b\":{\"c\":[true,null]}}\r\n\n{\"b\":\"x\",\"a\":2}\n{\"a\":3}");

        Assert.Equal(3, records.Count);
        Assert.Equal(1.0, records[0]["a"]);
        Assert.Equal(new List<object?> { true, null }, ((Record)records[0]["b"]!)["c"]);
        Assert.Equal(["b", "a"], records[1].Keys);
        Assert.Equal("x", records[1]["b"]);
        Assert.Equal(3.0, records[2]["a"]);
    }

    [Fact]
    public async Task Malformed_jsonl_chunk_line_reports_its_line()
    {
        var error = await Assert.ThrowsAsync<MalformedInputException>(() => InMemoryChunks.ReadJsonlAsync("{\"a\":1}\n{\"a\":}\n"));

        Assert.Equal(2, error.Line);
        Assert.Equal(6, error.Column);
    }
}
