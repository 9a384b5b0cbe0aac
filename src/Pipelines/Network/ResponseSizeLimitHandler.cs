namespace Saas.Pipelines.Network;

/// <summary>Refuses responses larger than the limit, whether they announce their length or stream without one.</summary>
internal sealed class ResponseSizeLimitHandler(long maxBytes, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var response = await base.SendAsync(request, cancellationToken);
        var host = request.RequestUri!.Host;
        if (response.Content.Headers.ContentLength > maxBytes)
        {
            var length = response.Content.Headers.ContentLength;
            response.Dispose();
            throw TooLarge(host, maxBytes, $" (it announced {length} bytes)");
        }
        var original = response.Content;
        var limited = new StreamContent(new SizeLimitedStream(await original.ReadAsStreamAsync(cancellationToken), original, maxBytes, host));
        foreach (var header in original.Headers)
        {
            limited.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        response.Content = limited;
        return response;
    }

    internal static OutboundCallRefusedException TooLarge(string host, long maxBytes, string detail = "") =>
        new($"refused: the response from {host} is larger than {maxBytes} bytes (Flowgate:Network:MaxResponseBytes){detail}");

    private sealed class SizeLimitedStream(Stream inner, HttpContent owner, long maxBytes, string host) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Counted(inner.Read(buffer, offset, count));

        public override int Read(Span<byte> buffer) => Counted(inner.Read(buffer));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Counted(await inner.ReadAsync(buffer, cancellationToken));

        private int Counted(int read)
        {
            _read += read;
            if (_read > maxBytes)
            {
                throw TooLarge(host, maxBytes);
            }
            return read;
        }

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                inner.Dispose();
                owner.Dispose();
            }
            base.Dispose(disposing);
        }
    }
}
