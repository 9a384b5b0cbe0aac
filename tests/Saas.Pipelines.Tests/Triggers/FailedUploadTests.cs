using System.Text;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Tables;
using Saas.Pipelines.Triggers;

namespace Saas.Pipelines.Tests.Triggers;

/// <summary>An upload that fails, whatever the reason, leaves no blob behind and no row pointing at one.</summary>
public sealed class FailedUploadTests
{
    private const string Upload = """
        {"name":"orders","trigger":{"type":"upload","format":"csv"},"steps":[{"id":"s","type":"select","fields":["order"]}]}
        """;

    [Fact]
    public async Task A_run_upload_whose_body_breaks_off_deletes_the_input_it_wrote_and_creates_no_run()
    {
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(Upload);

        await Assert.ThrowsAsync<IOException>(() => engine.Get<RunStarter>().StartUploadAsync(tenant, pipeline, new BreaksOff(200_000), CancellationToken.None));

        Assert.Empty(Files(engine, tenant));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task A_table_upload_that_breaks_off_or_repeats_a_key_deletes_its_blob_and_records_no_version()
    {
        await using var engine = new Engine();
        var tables = engine.Get<ReferenceTables>();

        await Assert.ThrowsAsync<IOException>(() => tables.UploadAsync("t1", "customers", InputFormat.Csv, new BreaksOff(200_000), CancellationToken.None));
        var repeated = await Assert.ThrowsAsync<MalformedInputException>(() => tables.UploadAsync("t1", "customers", InputFormat.Jsonl,
            new MemoryStream(Encoding.UTF8.GetBytes("{\"id\":1}\n\n{\"id\":2}\n{\"id\":\"1\"}\n")), CancellationToken.None, ["id"]));

        Assert.Equal(4, repeated.Line);
        Assert.Contains("the key id=1 repeats the row on line 1", repeated.Message);
        Assert.Empty(Files(engine, "t1"));
        Assert.Empty(tables.List("t1"));
    }

    private static string[] Files(Engine engine, string tenant)
    {
        var folder = Path.Combine(engine.DataDirectory, "blobs", tenant);
        return Directory.Exists(folder) ? Directory.GetFiles(folder, "*", SearchOption.AllDirectories) : [];
    }

    /// <summary>A request body whose client goes away after <paramref name="bytes"/> bytes.</summary>
    private sealed class BreaksOff(int bytes) : Stream
    {
        private int _sent;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _sent; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_sent >= bytes)
            {
                throw new IOException("the client closed the connection");
            }
            var n = Math.Min(count, bytes - _sent);
            var line = "order\nA-1\n"u8;
            for (var i = 0; i < n; i++)
            {
                buffer[offset + i] = line[(_sent + i) % line.Length];
            }
            _sent += n;
            return n;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
