using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Tests.Formats;

public sealed class JsonlSplittingTests
{
    [Fact]
    public async Task Jsonl_lines_are_copied_and_blank_lines_skipped()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("{\"a\":1}\r\n\n   \n  {\"b\": [1, 2]}  \n{\"c\":null}", InputFormat.Jsonl);

        Assert.Equal(new SplitResult(1, 3), result);
        Assert.Equal("{\"a\":1}\n{\"b\": [1, 2]}\n{\"c\":null}\n", chunks.Text(0));
    }

    [Fact]
    public async Task Jsonl_chunks_hold_at_most_n_records()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("{\"i\":1}\n{\"i\":2}\n{\"i\":3}\n{\"i\":4}\n{\"i\":5}\n", InputFormat.Jsonl, recordsPerChunk: 2);

        Assert.Equal(new SplitResult(3, 5), result);
        Assert.Equal("{\"i\":5}\n", chunks.Text(2));
    }

    [Fact]
    public async Task Jsonl_line_that_is_not_an_object_reports_line_and_column()
    {
        var error = await InMemoryChunks.SplitFailsAsync("{\"a\":1}\n\n  [1,2]\n", InputFormat.Jsonl);

        Assert.Equal(3, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("found an array", error.Problem);
    }

    [Fact]
    public async Task Jsonl_invalid_json_reports_line_and_column()
    {
        var error = await InMemoryChunks.SplitFailsAsync("{\"a\":1}\n{\"a\":2,}\n", InputFormat.Jsonl);

        Assert.Equal(2, error.Line);
        Assert.Equal(8, error.Column);
    }

    [Fact]
    public async Task Jsonl_two_objects_on_one_line_are_rejected()
    {
        var error = await InMemoryChunks.SplitFailsAsync("{\"a\":1} {\"a\":2}\n", InputFormat.Jsonl);

        Assert.Equal(1, error.Line);
        Assert.Equal(9, error.Column);
    }

    [Fact]
    public async Task Jsonl_pretty_printed_object_is_rejected_on_its_first_line()
    {
        var error = await InMemoryChunks.SplitFailsAsync("{\n  \"a\": 1\n}\n", InputFormat.Jsonl);

        Assert.Equal(1, error.Line);
    }
}
