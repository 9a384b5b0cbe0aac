using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Saas.Pipelines.Network;

namespace Saas.Pipelines.Tests.Network;

/// <summary>Answers names from a script; a name asked more often than scripted keeps its last answer.</summary>
internal sealed class StubResolver : IHostResolver
{
    private readonly Dictionary<string, Queue<IPAddress[]>> _answers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, IPAddress[]> _last = new(StringComparer.OrdinalIgnoreCase);

    public ConcurrentQueue<string> Lookups { get; } = new();

    public StubResolver Answer(string host, params string[] addresses)
    {
        if (!_answers.TryGetValue(host, out var queue))
        {
            _answers[host] = queue = new Queue<IPAddress[]>();
        }
        queue.Enqueue(addresses.Select(IPAddress.Parse).ToArray());
        return this;
    }

    public Task<IPAddress[]> ResolveAsync(string host, CancellationToken cancellationToken)
    {
        Lookups.Enqueue(host);
        lock (_answers)
        {
            if (_answers.TryGetValue(host, out var queue) && queue.TryDequeue(out var answer))
            {
                _last[host] = answer;
                return Task.FromResult(answer);
            }
            return _last.TryGetValue(host, out var last)
                ? Task.FromResult(last)
                : throw new SocketException((int)SocketError.HostNotFound);
        }
    }
}

/// <summary>
/// The only way tests reach the network: it records every address it is asked to dial, really connects
/// only to 127.0.0.1, and fails the test for anything else, so a refused address provably is never dialled.
/// </summary>
internal sealed class LoopbackOnlyConnector
{
    public ConcurrentQueue<IPEndPoint> Dialled { get; } = new();

    public async ValueTask<Stream> ConnectAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        Dialled.Enqueue(endPoint);
        if (!endPoint.Address.Equals(IPAddress.Loopback))
        {
            Assert.Fail($"The guard dialled {endPoint}; tests may only ever dial 127.0.0.1.");
        }
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await socket.ConnectAsync(endPoint, cancellationToken);
        return new NetworkStream(socket, ownsSocket: true);
    }
}

/// <summary>A minimal HTTP/1.1 server on 127.0.0.1: one request per connection, answered by path.</summary>
internal sealed class LoopbackHttpServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Func<string, Task<byte[]?>> _respond;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _accepting;

    public LoopbackHttpServer(Func<string, Task<byte[]?>> respond)
    {
        _respond = respond;
        _listener.Start();
        _accepting = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public ConcurrentQueue<string> Paths { get; } = new();

    /// <summary>Each request's head (request line and headers), in arrival order.</summary>
    public ConcurrentQueue<string> Requests { get; } = new();

    public static byte[] Response(int status, string body = "", params string[] headers)
    {
        var head = new StringBuilder($"HTTP/1.1 {status} X\r\nConnection: close\r\nContent-Length: {Encoding.UTF8.GetByteCount(body)}\r\n");
        foreach (var header in headers)
        {
            head.Append(header).Append("\r\n");
        }
        return Encoding.UTF8.GetBytes(head.Append("\r\n").Append(body).ToString());
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception) when (_stop.IsCancellationRequested)
            {
                return;
            }
            _ = ServeAsync(client);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        try
        {
            var stream = client.GetStream();
            var request = new StringBuilder();
            var buffer = new byte[4096];
            while (!request.ToString().Contains("\r\n\r\n"))
            {
                var read = await stream.ReadAsync(buffer, _stop.Token);
                if (read == 0)
                {
                    return;
                }
                request.Append(Encoding.ASCII.GetString(buffer, 0, read));
            }
            var head = request.ToString();
            var path = head.Split(' ')[1];
            Requests.Enqueue(head[..head.IndexOf("\r\n\r\n", StringComparison.Ordinal)]);
            Paths.Enqueue(path);
            if (await _respond(path) is { } response)
            {
                await stream.WriteAsync(response, _stop.Token);
            }
            else
            {
                await Task.Delay(Timeout.Infinite, _stop.Token);
            }
        }
        catch (Exception) when (_stop.IsCancellationRequested)
        {
        }
        catch (IOException)
        {
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        _stop.Dispose();
    }
}

internal static class Guard
{
    /// <summary>"public.example" resolves to 127.0.0.1, which these tests treat as public by allow-listing exactly it.</summary>
    public static NetworkOptions LoopbackIsPublic(Action<NetworkOptions>? configure = null)
    {
        var options = new NetworkOptions { AllowedPrivateNetworks = ["127.0.0.1/32"], Timeout = TimeSpan.FromSeconds(10) };
        configure?.Invoke(options);
        return options;
    }

    public static GuardedHttpClientFactory Factory(NetworkOptions options, IHostResolver resolver, LoopbackOnlyConnector connector) =>
        new(options, resolver, connector.ConnectAsync);
}
