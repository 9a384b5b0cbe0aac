using System.IO.Pipelines;
using System.Text;
using Microsoft.AspNetCore.Http;
using Saas.Web.Api;

namespace Saas.Web.Tests;

public sealed class JsonBodyTests
{
    [Fact]
    public async Task A_small_body_stays_readable_after_the_request_pipe_reuses_its_memory()
    {
        const string body = """{"model":"smart","messages":[{"role":"user","content":"hi"}]}""";
        var pipe = new ReusingPipeReader(Encoding.UTF8.GetBytes(body));
        var context = new DefaultHttpContext();
        context.Request.ContentLength = Encoding.UTF8.GetByteCount(body);
        context.Request.Body = pipe.AsStream();
        context.Features.Set<Microsoft.AspNetCore.Http.Features.IRequestBodyPipeFeature>(new BodyPipe(pipe));

        var (document, problem) = await JsonBody.ReadAsync(context.Request, CancellationToken.None);

        Assert.Null(problem);
        using (document)
        {
            Assert.True(pipe.Reused);
            Assert.Equal("smart", document!.RootElement.GetProperty("model").GetString());
            Assert.Equal("hi", document.RootElement.GetProperty("messages")[0].GetProperty("content").GetString());
        }
    }

    private sealed class BodyPipe(PipeReader reader) : Microsoft.AspNetCore.Http.Features.IRequestBodyPipeFeature
    {
        public PipeReader Reader { get; } = reader;
    }

    /// <summary>Hands out one buffer and, like Kestrel's memory pool, overwrites it once the reader has advanced past it.</summary>
    private sealed class ReusingPipeReader(byte[] data) : PipeReader
    {
        private bool _consumed;

        public bool Reused { get; private set; }

        public override ValueTask<ReadResult> ReadAsync(CancellationToken cancellationToken = default) =>
            new(new ReadResult(new System.Buffers.ReadOnlySequence<byte>(data, 0, _consumed ? 0 : data.Length), false, true));

        public override bool TryRead(out ReadResult result)
        {
            result = ReadAsync().Result;
            return true;
        }

        public override void AdvanceTo(SequencePosition consumed) => AdvanceTo(consumed, consumed);

        public override void AdvanceTo(SequencePosition consumed, SequencePosition examined)
        {
            if (consumed.GetInteger() >= data.Length)
            {
                _consumed = true;
                Array.Fill(data, (byte)'x');
                Reused = true;
            }
        }

        public override void CancelPendingRead() { }

        public override void Complete(Exception? exception = null) { }
    }
}
