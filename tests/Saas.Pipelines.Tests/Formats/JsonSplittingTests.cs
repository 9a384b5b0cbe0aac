using System.Text;
using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Tests.Formats;

public sealed class JsonSplittingTests
{
    [Fact]
    public async Task Json_array_of_objects_becomes_compact_jsonl_chunks()
    {
        const string input = """
            [
              { "id": 1, "name": "Ann Lee", "tags": [ "a", "b c" ] },
              {"id":2,"name":"Bo","address":{"city" : "Oslo"}}
            ]
            """;

        var (result, chunks) = await InMemoryChunks.SplitAsync(input, InputFormat.Json);

        Assert.Equal(new SplitResult(1, 2), result);
        Assert.Equal(
            "{\"id\":1,\"name\":\"Ann Lee\",\"tags\":[\"a\",\"b c\"]}\n{\"id\":2,\"name\":\"Bo\",\"address\":{\"city\":\"Oslo\"}}\n",
            chunks.Text(0));
    }

    [Fact]
    public async Task Json_element_on_one_line_is_copied_byte_for_byte()
    {
        var (_, chunks) = await InMemoryChunks.SplitAsync("""[{"a":"\u00e9\"","b":1.50E3}]""", InputFormat.Json);

        Assert.Equal("""{"a":"\u00e9\"","b":1.50E3}""" + "\n", chunks.Text(0));
    }

    [Fact]
    public async Task Json_exactly_n_and_n_plus_one_records_split_at_the_boundary()
    {
        var (exact, exactChunks) = await InMemoryChunks.SplitAsync("""[{"i":1},{"i":2}]""", InputFormat.Json, recordsPerChunk: 2);
        var (more, moreChunks) = await InMemoryChunks.SplitAsync("""[{"i":1},{"i":2},{"i":3}]""", InputFormat.Json, recordsPerChunk: 2);

        Assert.Equal(new SplitResult(1, 2), exact);
        Assert.Equal("{\"i\":1}\n{\"i\":2}\n", exactChunks.Text(0));
        Assert.Equal(new SplitResult(2, 3), more);
        Assert.Equal("{\"i\":3}\n", moreChunks.Text(1));
    }

    [Fact]
    public async Task Json_elements_larger_than_the_read_buffer_are_split_whole()
    {
        var big = new string('x', 300_000);
        var input = $$"""[{"a":"{{big}}"}, {"b":"{{big}}"}, {"c":1}]""";

        var (result, chunks) = await InMemoryChunks.SplitAsync(input, InputFormat.Json, recordsPerChunk: 2);

        Assert.Equal(new SplitResult(2, 3), result);
        var records = await InMemoryChunks.ReadJsonlAsync(chunks.Text(0));
        Assert.Equal(big, records[1]["b"]);
    }

    [Fact]
    public async Task Json_empty_array_makes_one_empty_chunk()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync(" [ ] \n", InputFormat.Json);

        Assert.Equal(new SplitResult(1, 0), result);
        Assert.Empty(chunks.Bytes(0));
    }

    [Fact]
    public async Task Json_top_level_object_is_rejected()
    {
        var error = await InMemoryChunks.SplitFailsAsync("\n  {\"a\":1}", InputFormat.Json);

        Assert.Equal(2, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("single object", error.Problem);
    }

    [Fact]
    public async Task Json_array_element_that_is_not_an_object_reports_line_and_column()
    {
        var error = await InMemoryChunks.SplitFailsAsync("[\n  {\"a\":1},\n  {\"a\":2}, 42\n]", InputFormat.Json);

        Assert.Equal(3, error.Line);
        Assert.Equal(12, error.Column);
        Assert.Contains("element 3 of the array is a number", error.Problem);
    }

    [Fact]
    public async Task Json_invalid_syntax_reports_line_and_column()
    {
        var error = await InMemoryChunks.SplitFailsAsync("[\n  {\"a\":1},\n  {\"a\": tru}\n]", InputFormat.Json);

        Assert.Equal(3, error.Line);
        Assert.Equal(12, error.Column); // where the reader finds "tru" is not "true"
        Assert.StartsWith("invalid JSON", error.Problem);
    }

    [Fact]
    public async Task Json_error_far_into_a_file_reports_the_absolute_line()
    {
        var input = new StringBuilder("[\n");
        for (var i = 0; i < 20_000; i++)
        {
            input.Append("  {\"id\": ").Append(i).Append(", \"name\": \"someone\"},\n");
        }
        input.Append("  {\"id\": oops}\n]");

        var error = await InMemoryChunks.SplitFailsAsync(input.ToString(), InputFormat.Json);

        Assert.Equal(20_002, error.Line);
        Assert.Equal(10, error.Column);
    }

    [Fact]
    public async Task Json_element_after_many_lines_that_is_not_an_object_reports_the_absolute_line()
    {
        var input = new StringBuilder("[\n");
        for (var i = 0; i < 20_000; i++)
        {
            input.Append("{\"id\":").Append(i).Append("},\n");
        }
        input.Append("  \"stray\"\n]");

        var error = await InMemoryChunks.SplitFailsAsync(input.ToString(), InputFormat.Json);

        Assert.Equal(20_002, error.Line);
        Assert.Equal(3, error.Column);
    }

    [Fact]
    public async Task Json_truncated_array_is_rejected()
    {
        var error = await InMemoryChunks.SplitFailsAsync("[{\"a\":1},\n{\"a\":2}", InputFormat.Json);

        Assert.Equal(2, error.Line);
    }

    [Fact]
    public async Task Json_content_after_the_array_is_rejected()
    {
        var error = await InMemoryChunks.SplitFailsAsync("[{\"a\":1}]\n[{\"a\":2}]", InputFormat.Json);

        Assert.Equal(2, error.Line);
        Assert.Equal(1, error.Column);
    }
}
