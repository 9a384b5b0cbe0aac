using System.Net;
using System.Runtime.ExceptionServices;

namespace Saas.Pipelines.Network;

/// <summary>
/// The outermost handler: checks every URL (the first and each redirect target) before it is requested,
/// and follows redirects itself because the built-in follower would not re-check them.
/// </summary>
internal sealed class RedirectFollowingHandler(OutboundUrlPolicy urls, int maxRedirects, HttpMessageHandler inner) : DelegatingHandler(inner)
{
    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var first = request.RequestUri;
        for (var redirects = 0; ; redirects++)
        {
            urls.EnsureAllowed(request.RequestUri);
            KeepOnTcp(request);
            var response = await SendUnwrappedAsync(request, cancellationToken);
            if (!IsRedirect(response.StatusCode) || response.Headers.Location is not { } location)
            {
                return response;
            }
            response.Dispose();
            if (redirects == maxRedirects)
            {
                throw new OutboundCallRefusedException($"refused: {OutboundUrlPolicy.Redacted(first!)} redirected more than {maxRedirects} times (Flowgate:Network:MaxRedirects)");
            }
            var from = request.RequestUri!;
            var to = location.IsAbsoluteUri ? location : new Uri(from, location);
            if (from.Scheme == Uri.UriSchemeHttps && to.Scheme == Uri.UriSchemeHttp)
            {
                throw new OutboundCallRefusedException($"refused: {OutboundUrlPolicy.Redacted(from)} redirected from https to {OutboundUrlPolicy.Redacted(to)}");
            }
            request = NextRequest(request, response.StatusCode, to);
        }
    }

    private async Task<HttpResponseMessage> SendUnwrappedAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        try
        {
            return await base.SendAsync(request, cancellationToken);
        }
        catch (HttpRequestException e) when (e.InnerException is OutboundCallRefusedException refused)
        {
            // SocketsHttpHandler wraps what the connect callback throws; callers want the refusal itself.
            ExceptionDispatchInfo.Capture(refused).Throw();
            throw;
        }
    }

    /// <summary>HTTP/3 runs over QUIC, which resolves and dials without the guarded connect callback.</summary>
    private static void KeepOnTcp(HttpRequestMessage request)
    {
        if (request.Version.Major >= 3)
        {
            request.Version = HttpVersion.Version20;
        }
        request.VersionPolicy = HttpVersionPolicy.RequestVersionOrLower;
    }

    private static bool IsRedirect(HttpStatusCode status) => status is HttpStatusCode.MovedPermanently or HttpStatusCode.Found
        or HttpStatusCode.SeeOther or HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect;

    private static HttpRequestMessage NextRequest(HttpRequestMessage previous, HttpStatusCode status, Uri to)
    {
        var keepsMethod = status is HttpStatusCode.TemporaryRedirect or HttpStatusCode.PermanentRedirect
            || previous.Method == HttpMethod.Get || previous.Method == HttpMethod.Head;
        var next = new HttpRequestMessage(keepsMethod ? previous.Method : HttpMethod.Get, to)
        {
            Version = previous.Version,
            VersionPolicy = previous.VersionPolicy,
            Content = keepsMethod ? previous.Content : null,
        };
        var sameOrigin = Uri.Compare(previous.RequestUri, to, UriComponents.SchemeAndServer, UriFormat.Unescaped, StringComparison.OrdinalIgnoreCase) == 0;
        foreach (var header in previous.Headers)
        {
            // Credentials meant for one origin must not travel to another.
            if (!sameOrigin && (header.Key.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || header.Key.Equals("Cookie", StringComparison.OrdinalIgnoreCase)))
            {
                continue;
            }
            next.Headers.TryAddWithoutValidation(header.Key, header.Value);
        }
        return next;
    }
}
