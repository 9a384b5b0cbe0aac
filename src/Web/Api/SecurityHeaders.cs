using System.Security.Cryptography;
using Microsoft.Extensions.Primitives;

namespace Saas.Web.Api;

/// <summary>
/// Headers every answer carries: a Content-Security-Policy that only runs the portal's own scripts (the
/// one inline script, Blazor's import map, carries this request's nonce) and forbids framing, plus
/// nosniff, a referrer policy and a permissions policy. HSTS is added by the host outside Development.
/// API answers (JSON, files, streams) never run scripts: they get a fixed policy that allows nothing,
/// so the hot paths skip making a nonce.
/// </summary>
public static class SecurityHeaders
{
    private const string NonceKey = "csp-nonce";

    private static readonly StringValues ApiPolicy = "default-src 'none'; frame-ancestors 'none'";
    private static readonly StringValues NoSniff = "nosniff";
    private static readonly StringValues Deny = "DENY";
    private static readonly StringValues ReferrerPolicy = "strict-origin-when-cross-origin";
    private static readonly StringValues PermissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=()";

    /// <summary>The nonce an inline script of this response must carry.</summary>
    public static string CspNonce(this HttpContext context) => (string)context.Items[NonceKey]!;

    public static IApplicationBuilder UseSecurityHeaders(this IApplicationBuilder app) => app.Use((context, next) =>
    {
        var headers = context.Response.Headers;
        var path = context.Request.Path;
        if (path.StartsWithSegments("/v1") || path.StartsWithSegments("/api"))
        {
            headers.ContentSecurityPolicy = ApiPolicy;
        }
        else
        {
            var nonce = Convert.ToHexString(RandomNumberGenerator.GetBytes(16));
            context.Items[NonceKey] = nonce;
            headers.ContentSecurityPolicy =
                $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
                "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";
        }
        headers.XContentTypeOptions = NoSniff;
        headers.XFrameOptions = Deny;
        headers["Referrer-Policy"] = ReferrerPolicy;
        headers["Permissions-Policy"] = PermissionsPolicy;
        return next(context);
    });
}
