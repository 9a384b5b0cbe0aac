using System.Net;
using System.Net.Sockets;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Network;

/// <summary>
/// Creates the <see cref="HttpClient"/>s every outbound call goes through (HTTP steps, webhooks, LLM providers).
/// Each connection resolves its host once, refuses forbidden answers and dials the very address it checked,
/// so a DNS answer that changes between check and connect cannot reach an internal address.
/// </summary>
public sealed class GuardedHttpClientFactory : IDisposable
{
    private readonly NetworkOptions _options;
    private readonly AddressPolicy _addresses;
    private readonly IHostResolver _resolver;
    private readonly Func<IPEndPoint, CancellationToken, ValueTask<Stream>> _connect;
    private readonly HttpMessageHandler _handler;

    public GuardedHttpClientFactory(IOptions<NetworkOptions> options, IHostResolver resolver)
        : this(options.Value, resolver, ConnectSocketAsync)
    {
    }

    /// <param name="connect">Opens the TCP connection to an address that has already passed the policy.</param>
    internal GuardedHttpClientFactory(NetworkOptions options, IHostResolver resolver, Func<IPEndPoint, CancellationToken, ValueTask<Stream>> connect)
    {
        _options = options;
        _addresses = AddressPolicy.From(options);
        _resolver = resolver;
        _connect = connect;
        Urls = new OutboundUrlPolicy(_addresses);
        var sockets = new SocketsHttpHandler
        {
            // A proxy would resolve and dial the host itself, past the checks below.
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            ConnectTimeout = options.Timeout,
            PooledConnectionLifetime = TimeSpan.FromMinutes(2),
            ConnectCallback = ConnectAsync,
        };
        _handler = new RedirectFollowingHandler(Urls, options.MaxRedirects, new ResponseSizeLimitHandler(options.MaxResponseBytes, sockets));
        Direct = new HttpClient(sockets, disposeHandler: false) { Timeout = options.Timeout };
    }

    /// <summary>
    /// One shared client for URLs checked when they were configured and checked again by the caller with
    /// <see cref="OutboundUrlPolicy.EnsureAllowed"/> (the AI gateway's providers): the same guarded connections, without
    /// the redirect follower and the response-size wrapper, which took a fifth of a gateway call's CPU (decision 026).
    /// A redirect comes back as it is, and the caller bounds what it keeps of a body.
    /// </summary>
    public HttpClient Direct { get; }

    /// <summary>For checking a URL when it is configured (a webhook, a provider base URL), long before it is called.</summary>
    public OutboundUrlPolicy Urls { get; }

    public HttpClient CreateClient() => new(_handler, disposeHandler: false)
    {
        Timeout = _options.Timeout,
        MaxResponseContentBufferSize = Math.Min(_options.MaxResponseBytes, int.MaxValue),
    };

    public void Dispose()
    {
        Direct.Dispose();
        _handler.Dispose();
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var port = context.DnsEndPoint.Port;
        var candidates = OutboundUrlPolicy.TryParseLiteral(host) is { } literal
            ? [literal]
            : await _resolver.ResolveAsync(host, cancellationToken);
        if (candidates.Length == 0)
        {
            throw new OutboundCallRefusedException($"refused: {host} did not resolve to any address");
        }
        // Any forbidden answer refuses the whole name: a record mixing public and internal addresses is an attack, not a fallback.
        foreach (var address in candidates)
        {
            if (_addresses.WhyForbidden(address) is { } why)
            {
                throw new OutboundCallRefusedException($"refused: {host} resolved to {address}, {why}; {OutboundCallRefusedException.AllowListHint}");
            }
        }
        List<Exception>? failures = null;
        foreach (var address in candidates)
        {
            try
            {
                return await _connect(new IPEndPoint(address, port), cancellationToken);
            }
            catch (Exception e) when (e is SocketException or IOException)
            {
                (failures ??= []).Add(e);
            }
        }
        if (failures!.Count == 1)
        {
            ExceptionDispatchInfo.Capture(failures[0]).Throw();
        }
        throw new AggregateException($"Could not connect to {host}:{port} at any of {string.Join(", ", candidates.Select(a => a.ToString()))}", failures);
    }

    private static async ValueTask<Stream> ConnectSocketAsync(IPEndPoint endPoint, CancellationToken cancellationToken)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(endPoint, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
