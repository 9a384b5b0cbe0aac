using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Tests.Formats;

public sealed class CsvSplittingTests
{
    [Fact]
    public async Task Csv_quoted_fields_keep_delimiters_doubled_quotes_and_newlines()
    {
        const string input = "id,text,note\n1,\"a, b\",\"say \"\"hi\"\"\"\n2,\"two\nlines\",\"\"\n3,plain,\n";

        var (result, chunks) = await InMemoryChunks.SplitAsync(input, InputFormat.Csv);

        Assert.Equal(new SplitResult(1, 3), result);
        Assert.Equal(input, chunks.Text(0));
        var records = await InMemoryChunks.ReadCsvAsync(chunks.Text(0));
        Assert.Equal(["id", "text", "note"], records[0].Keys);
        Assert.Equal("a, b", records[0]["text"]);
        Assert.Equal("say \"hi\"", records[0]["note"]);
        Assert.Equal("two\nlines", records[1]["text"]);
        Assert.Equal("", records[1]["note"]);
        Assert.Equal("", records[2]["note"]);
    }

    [Fact]
    public async Task Csv_crlf_rows_are_accepted_and_chunks_use_lf()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("a,b\r\n1,2\r\n3,\"x\r\ny\"\r\n", InputFormat.Csv);

        Assert.Equal(2, result.Records);
        Assert.Equal("a,b\n1,2\n3,\"x\r\ny\"\n", chunks.Text(0));
        var records = await InMemoryChunks.ReadCsvAsync(chunks.Text(0));
        Assert.Equal("x\r\ny", records[1]["b"]);
    }

    [Fact]
    public async Task Csv_last_row_without_line_end_is_kept()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("a,b\n1,2\n3,4", InputFormat.Csv);

        Assert.Equal(2, result.Records);
        Assert.Equal("a,b\n1,2\n3,4\n", chunks.Text(0));
    }

    [Theory]
    [InlineData(';')]
    [InlineData('\t')]
    [InlineData('|')]
    [InlineData(',')]
    public async Task Csv_rows_split_on_the_chosen_delimiter(char delimiter)
    {
        var input = $"name{delimiter}city\n\"Doe{delimiter} J\"{delimiter}Paris\nRoe{delimiter}\"Rome, IT\"\n";

        var (result, chunks) = await InMemoryChunks.SplitAsync(input, InputFormat.Csv, delimiter: delimiter);

        Assert.Equal(2, result.Records);
        var records = await InMemoryChunks.ReadCsvAsync(chunks.Text(0), delimiter);
        Assert.Equal($"Doe{delimiter} J", records[0]["name"]);
        Assert.Equal("Rome, IT", records[1]["city"]);
    }

    [Fact]
    public async Task Csv_utf8_bom_is_stripped()
    {
        byte[] input = [0xEF, 0xBB, 0xBF, .. "id,name\n1,Zoë\n"u8];

        var (_, chunks) = await InMemoryChunks.SplitAsync(input, InputFormat.Csv);

        Assert.Equal("id,name\n1,Zoë\n"u8.ToArray(), chunks.Bytes(0));
        var records = await InMemoryChunks.ReadCsvAsync(chunks.Text(0));
        Assert.Equal("1", records[0]["id"]);
    }

    [Fact]
    public async Task Csv_exactly_n_records_make_one_chunk()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("a\n1\n2\n3\n", InputFormat.Csv, recordsPerChunk: 3);

        Assert.Equal(new SplitResult(1, 3), result);
        Assert.Equal("a\n1\n2\n3\n", chunks.Text(0));
    }

    [Fact]
    public async Task Csv_n_plus_one_records_make_two_chunks_each_with_the_header()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("a,b\n1,x\n2,y\n3,z\n4,w\n", InputFormat.Csv, recordsPerChunk: 3);

        Assert.Equal(new SplitResult(2, 4), result);
        Assert.Equal("a,b\n1,x\n2,y\n3,z\n", chunks.Text(0));
        Assert.Equal("a,b\n4,w\n", chunks.Text(1));
    }

    [Fact]
    public async Task Csv_blank_lines_are_skipped()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("\na,b\n1,2\n\r\n\n3,4\n\n", InputFormat.Csv);

        Assert.Equal(2, result.Records);
        Assert.Equal("a,b\n1,2\n3,4\n", chunks.Text(0));
    }

    [Fact]
    public async Task Csv_error_after_leading_blank_lines_counts_them()
    {
        var error = await InMemoryChunks.SplitFailsAsync("\n\r\na,b\n1,2\n3\n", InputFormat.Csv);

        Assert.Equal(5, error.Line);
        Assert.Equal(2, error.Column);
    }

    [Fact]
    public async Task Csv_unterminated_quote_in_a_large_file_stops_at_the_row_size_limit()
    {
        var input = new MemoryStream();
        input.Write("a,b\n1,\"open\n"u8);
        var filler = "more text, still inside the quote\n"u8.ToArray();
        while (input.Length < 40_000_000)
        {
            input.Write(filler);
        }
        input.Position = 0;

        var error = await Assert.ThrowsAsync<MalformedInputException>(() => InputSplitter.SplitAsync(
            input, InputFormat.Csv, ',', 1000, (_, _) => Task.FromResult<Stream>(Stream.Null), CancellationToken.None));

        Assert.Equal(2, error.Line);
        Assert.Contains("never closed", error.Problem);
    }

    [Fact]
    public async Task Csv_with_only_a_header_makes_one_chunk_with_the_header()
    {
        var (result, chunks) = await InMemoryChunks.SplitAsync("a,b\n", InputFormat.Csv);

        Assert.Equal(new SplitResult(1, 0), result);
        Assert.Equal("a,b\n", chunks.Text(0));
        Assert.Empty(await InMemoryChunks.ReadCsvAsync(chunks.Text(0)));
    }

    [Fact]
    public async Task Csv_row_with_too_many_fields_reports_line_and_column()
    {
        var error = await InMemoryChunks.SplitFailsAsync("a,b\n1,2\n3,\"x,y\",5\n6,7\n", InputFormat.Csv);

        Assert.Equal(3, error.Line);
        Assert.Equal(9, error.Column);
        Assert.Contains("expected 2 fields", error.Problem);
        Assert.Contains("found 3", error.Problem);
        Assert.StartsWith("line 3, column 9: ", error.Message);
    }

    [Fact]
    public async Task Csv_row_with_too_few_fields_reports_line_and_column()
    {
        var error = await InMemoryChunks.SplitFailsAsync("a;b;c\r\n1;2;3\r\n4;5\r\n", InputFormat.Csv, ';');

        Assert.Equal(3, error.Line);
        Assert.Equal(4, error.Column);
        Assert.Contains("expected 3 fields (as in the header) but found 2", error.Problem);
    }

    [Fact]
    public async Task Csv_bad_row_after_a_multiline_field_reports_its_own_line()
    {
        var error = await InMemoryChunks.SplitFailsAsync("a,b\n1,\"x\ny\nz\"\n2,3,4\n", InputFormat.Csv);

        Assert.Equal(5, error.Line);
        Assert.Equal(5, error.Column);
    }

    [Fact]
    public async Task Csv_unterminated_quote_reports_where_the_quote_opens()
    {
        var error = await InMemoryChunks.SplitFailsAsync("a,b\n1,2\n3,\"never closed\n4,5\n6,7\n", InputFormat.Csv);

        Assert.Equal(3, error.Line);
        Assert.Equal(3, error.Column);
        Assert.Contains("never closed", error.Problem);
    }

    [Fact]
    public async Task Csv_empty_header_name_is_rejected()
    {
        var error = await InMemoryChunks.SplitFailsAsync("id,,name\n1,2,3\n", InputFormat.Csv);

        Assert.Equal(1, error.Line);
        Assert.Equal(4, error.Column);
        Assert.Contains("header field 2 is empty", error.Problem);
    }

    [Fact]
    public async Task Csv_duplicate_header_name_is_rejected_at_its_second_occurrence()
    {
        var error = await InMemoryChunks.SplitFailsAsync("id,name,\"id\"\n1,2,3\n", InputFormat.Csv);

        Assert.Equal(1, error.Line);
        Assert.Equal(9, error.Column);
        Assert.Contains("'id' appears twice", error.Problem);
    }

    [Fact]
    public async Task Csv_delimiter_outside_the_supported_set_is_refused()
    {
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(
            () => InMemoryChunks.SplitAsync("a:b\n", InputFormat.Csv, delimiter: ':'));
    }
}
