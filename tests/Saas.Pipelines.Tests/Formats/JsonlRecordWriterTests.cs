using System.Text;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Record = Saas.Pipelines.Records.Record;

namespace Saas.Pipelines.Tests.Formats;

public sealed class JsonlRecordWriterTests
{
    [Fact]
    public async Task Records_are_written_one_compact_line_each()
    {
        var destination = new MemoryStream();
        await using (var writer = new JsonlRecordWriter(destination))
        {
            await writer.WriteAsync(new Record { ["a"] = 1.0, ["b"] = new Record { ["c"] = "x y" } }, CancellationToken.None);
            await writer.WriteAsync(new Record(), CancellationToken.None);
            Assert.Equal(2, writer.Count);
        }

        Assert.Equal("{\"a\":1,\"b\":{\"c\":\"x y\"}}\n{}\n", Encoding.UTF8.GetString(destination.ToArray()));
        Assert.True(destination.CanWrite);
    }

    [Fact]
    public async Task Output_past_the_buffer_size_is_flushed_in_order()
    {
        var destination = new MemoryStream();
        await using (var writer = new JsonlRecordWriter(destination))
        {
            for (var i = 0; i < 20_000; i++)
            {
                await writer.WriteAsync(new Record { ["i"] = (double)i, ["s"] = "some text to fill the buffer" }, CancellationToken.None);
            }
            Assert.True(destination.Length > 0);
        }

        var records = await InMemoryChunks.ReadJsonlAsync(Encoding.UTF8.GetString(destination.ToArray()));
        Assert.Equal(20_000, records.Count);
        Assert.Equal(19_999.0, records[^1]["i"]);
    }

    [Fact]
    public async Task A_record_that_cannot_be_written_leaves_no_partial_line()
    {
        var destination = new MemoryStream();
        await using (var writer = new JsonlRecordWriter(destination))
        {
            await writer.WriteAsync(new Record { ["a"] = "ok" }, CancellationToken.None);
            await Assert.ThrowsAsync<RecordException>(
                async () => await writer.WriteAsync(new Record { ["a"] = "half", ["b"] = new object() }, CancellationToken.None));
            await writer.WriteAsync(new Record { ["a"] = "next" }, CancellationToken.None);
            Assert.Equal(2, writer.Count);
        }

        Assert.Equal("{\"a\":\"ok\"}\n{\"a\":\"next\"}\n", Encoding.UTF8.GetString(destination.ToArray()));
    }
}
