using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Tests.Formats;

public sealed class InputEncodingTests
{
    [Theory]
    [InlineData(InputFormat.Csv)]
    [InlineData(InputFormat.Json)]
    [InlineData(InputFormat.Jsonl)]
    public async Task Empty_input_makes_one_empty_chunk(InputFormat format)
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync([], format);

        Assert.Equal(new SplitResult(1, 0), result);
        Assert.Empty(chunks.Bytes(0));
    }

    [Theory]
    [InlineData(InputFormat.Csv)]
    [InlineData(InputFormat.Json)]
    [InlineData(InputFormat.Jsonl)]
    public async Task A_lone_bom_counts_as_empty_input(InputFormat format)
    {
        var (result, _) = await InMemoryChunks.SplitAsync([0xEF, 0xBB, 0xBF], format);

        Assert.Equal(new SplitResult(1, 0), result);
    }

    [Theory]
    [InlineData(InputFormat.Json, "[{\"a\":\"x\"}]")]
    [InlineData(InputFormat.Jsonl, "{\"a\":\"x\"}\n")]
    public async Task Json_inputs_strip_the_utf8_bom(InputFormat format, string json)
    {
        byte[] input = [0xEF, 0xBB, 0xBF, .. System.Text.Encoding.UTF8.GetBytes(json)];

        var (result, chunks) = await InMemoryChunks.SplitAsync(input, format);

        Assert.Equal(1, result.Records);
        Assert.Equal("{\"a\":\"x\"}\n", chunks.Text(0));
    }

    [Fact]
    public async Task Latin1_bytes_are_rejected_as_not_utf8_with_their_position()
    {
        byte[] input = [.. "id,name\n1,Zo"u8, 0xEB, .. "\n"u8];

        var error = await InMemoryChunks.SplitFailsAsync(input, InputFormat.Csv);

        Assert.Equal(2, error.Line);
        Assert.Equal(5, error.Column);
        Assert.Contains("not UTF-8", error.Problem);
    }

    [Fact]
    public async Task Invalid_utf8_inside_a_json_string_is_rejected()
    {
        byte[] input = [.. "{\"a\":1}\n{\"a\":\""u8, 0xC3, 0x28, .. "\"}\n"u8];

        var error = await InMemoryChunks.SplitFailsAsync(input, InputFormat.Jsonl);

        Assert.Equal(2, error.Line);
        Assert.Equal(7, error.Column);
    }

    [Fact]
    public async Task Multibyte_characters_split_across_reads_are_accepted()
    {
        var row = string.Concat(Enumerable.Repeat("é€😀,", 3)).TrimEnd(',');
        var input = "a,b,c\n" + string.Join("\n", Enumerable.Repeat(row, 40_000)) + "\n";

        var (result, chunks) = await InMemoryChunks.SplitAsync(input, InputFormat.Csv, recordsPerChunk: 100_000);

        Assert.Equal(40_000, result.Records);
        Assert.Equal(input, chunks.Text(0));
    }

    [Fact]
    public async Task Utf16_text_is_rejected()
    {
        byte[] input = [0xFF, 0xFE, .. System.Text.Encoding.Unicode.GetBytes("a,b\n1,2\n")];

        var error = await InMemoryChunks.SplitFailsAsync(input, InputFormat.Csv);

        Assert.Contains("UTF-16", error.Problem);
    }

    [Fact]
    public async Task Excel_workbook_is_rejected_as_an_archive()
    {
        byte[] input = [.. "PK\u0003\u0004"u8, 0x14, 0x00, 0x06, 0x00];

        var error = await InMemoryChunks.SplitFailsAsync(input, InputFormat.Csv);

        Assert.Contains("ZIP archive", error.Problem);
    }

    [Fact]
    public async Task Nul_bytes_are_rejected_as_binary()
    {
        var error = await InMemoryChunks.SplitFailsAsync("a,b\n1,\0\n", InputFormat.Csv);

        Assert.Equal(2, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("NUL", error.Problem);
    }
}
