using System.Text;
using System.Text.Json;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Formats;

public sealed class SinkWriterTests
{
    private static readonly Record[][] ChunkRecords =
    [
        [
            new Record { ["id"] = 1.0, ["name"] = "Ann, \"the\" first", ["note"] = "two\nlines" },
            new Record { ["id"] = 2.0, ["name"] = "Bo", ["address"] = new Record { ["city"] = "Oslo" } },
        ],
        [],
        [
            new Record { ["tags"] = new List<object?> { "a", 1.5 }, ["id"] = 3.0, ["name"] = null, ["ok"] = true },
        ],
    ];

    [Fact]
    public async Task Jsonl_sink_concatenates_chunk_outputs_in_order()
    {
        var (count, text) = await SinkAsync(SinkFormat.Jsonl);

        Assert.Equal(3, count);
        var records = await InMemoryChunks.ReadJsonlAsync(text);
        Assert.Equal([1.0, 2.0, 3.0], records.Select(r => r["id"]));
        Assert.Equal("Oslo", ((Record)records[1]["address"]!)["city"]);
    }

    [Fact]
    public async Task Jsonl_sink_ends_a_chunk_without_a_final_line_end()
    {
        var chunks = new[] { "{\"a\":1}\n{\"a\":2}"u8.ToArray(), "{\"a\":3}\n"u8.ToArray() };
        var destination = new MemoryStream();

        var count = await SinkWriter.WriteAsync(Opening(chunks), SinkFormat.Jsonl, ',', destination, CancellationToken.None);

        Assert.Equal(3, count);
        Assert.Equal("{\"a\":1}\n{\"a\":2}\n{\"a\":3}\n", Encoding.UTF8.GetString(destination.ToArray()));
    }

    [Fact]
    public async Task Json_sink_writes_an_array_of_the_records()
    {
        var (count, text) = await SinkAsync(SinkFormat.Json);

        Assert.Equal(3, count);
        using var document = JsonDocument.Parse(text);
        var array = document.RootElement.EnumerateArray().ToList();
        Assert.Equal(3, array.Count);
        Assert.Equal("Ann, \"the\" first", array[0].GetProperty("name").GetString());
        Assert.Equal(JsonValueKind.Null, array[2].GetProperty("name").ValueKind);
        Assert.Equal(RecordJson.Parse(Encoding.UTF8.GetBytes(array[1].GetRawText())).Keys, ChunkRecords[0][1].Keys);
    }

    [Fact]
    public async Task Json_sink_of_no_records_is_an_empty_array()
    {
        var destination = new MemoryStream();

        var count = await SinkWriter.WriteAsync(Opening([[]]), SinkFormat.Json, ',', destination, CancellationToken.None);

        Assert.Equal(0, count);
        Assert.Equal("[]\n", Encoding.UTF8.GetString(destination.ToArray()));
    }

    [Fact]
    public async Task Csv_sink_writes_the_union_of_fields_in_first_appearance_order_with_rfc4180_quoting()
    {
        var (count, text) = await SinkAsync(SinkFormat.Csv);

        Assert.Equal(3, count);
        Assert.Equal(
            "id,name,note,address,tags,ok\n" +
            "1,\"Ann, \"\"the\"\" first\",\"two\nlines\",,,\n" +
            "2,Bo,,\"{\"\"city\"\":\"\"Oslo\"\"}\",,\n" +
            "3,,,,\"[\"\"a\"\",1.5]\",true\n",
            text);
    }

    [Fact]
    public async Task Csv_sink_round_trips_through_the_splitter_and_chunk_reader()
    {
        var (_, text) = await SinkAsync(SinkFormat.Csv, ';');

        var (result, chunks) = await InMemoryChunks.SplitAsync(text, InputFormat.Csv, delimiter: ';');
        var records = await InMemoryChunks.ReadCsvAsync(chunks.Text(0), ';');

        Assert.Equal(3, result.Records);
        Assert.Equal("Ann, \"the\" first", records[0]["name"]);
        Assert.Equal("two\nlines", records[0]["note"]);
        Assert.Equal("{\"city\":\"Oslo\"}", records[1]["address"]);
        Assert.Equal("", records[2]["name"]);
        Assert.Equal("true", records[2]["ok"]);
    }

    [Fact]
    public async Task Csv_sink_of_no_records_is_empty()
    {
        var destination = new MemoryStream();

        var count = await SinkWriter.WriteAsync(Opening([[]]), SinkFormat.Csv, ',', destination, CancellationToken.None);

        Assert.Equal(0, count);
        Assert.Empty(destination.ToArray());
    }

    private static async Task<(long Count, string Text)> SinkAsync(SinkFormat format, char delimiter = ',')
    {
        var outputs = new List<byte[]>();
        foreach (var records in ChunkRecords)
        {
            var output = new MemoryStream();
            await using (var writer = new JsonlRecordWriter(output))
            {
                foreach (var record in records)
                {
                    await writer.WriteAsync(record, CancellationToken.None);
                }
            }
            outputs.Add(output.ToArray());
        }
        var destination = new MemoryStream();
        var count = await SinkWriter.WriteAsync(Opening(outputs), format, delimiter, destination, CancellationToken.None);
        return (count, Encoding.UTF8.GetString(destination.ToArray()));
    }

    private static List<Func<CancellationToken, Task<Stream>>> Opening(IEnumerable<byte[]> chunks) =>
        [.. chunks.Select(bytes => (Func<CancellationToken, Task<Stream>>)(_ => Task.FromResult<Stream>(new MemoryStream(bytes))))];
}
