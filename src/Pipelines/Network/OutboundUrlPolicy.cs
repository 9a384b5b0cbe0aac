using System.Net;

namespace Saas.Pipelines.Network;

/// <summary>Checks a URL before any DNS lookup: scheme, userinfo, and hosts that are IP addresses in any spelling.</summary>
public sealed class OutboundUrlPolicy(AddressPolicy addresses)
{
    public void EnsureAllowed(Uri? url)
    {
        if (url is null || !url.IsAbsoluteUri)
        {
            throw new OutboundCallRefusedException($"refused: '{url}' is not an absolute http or https URL");
        }
        if (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps)
        {
            throw new OutboundCallRefusedException($"refused: {Redacted(url)} uses the scheme '{url.Scheme}'; only http and https are allowed");
        }
        if (url.UserInfo.Length > 0)
        {
            throw new OutboundCallRefusedException($"refused: {Redacted(url)} carries credentials in the URL (user info before '@'); send them in a header instead");
        }
        if (TryParseLiteral(url.Host) is { } address && addresses.WhyForbidden(address) is { } why)
        {
            throw new OutboundCallRefusedException($"refused: {Redacted(url)} names {address}, {why}; {OutboundCallRefusedException.AllowListHint}");
        }
    }

    /// <summary>
    /// The IP address a host spells, in any form a resolver would accept: "2130706433", "0177.0.0.1",
    /// "0x7f.1" and "[::ffff:127.0.0.1]" are all addresses, not names.
    /// </summary>
    internal static IPAddress? TryParseLiteral(string host)
    {
        var literal = host.TrimEnd('.');
        if (literal.StartsWith('[') && literal.EndsWith(']'))
        {
            literal = literal[1..^1];
        }
        return IPAddress.TryParse(literal, out var address) ? address : null;
    }

    internal static string Redacted(Uri url) =>
        url.UserInfo.Length > 0 ? url.GetComponents(UriComponents.AbsoluteUri & ~UriComponents.UserInfo, UriFormat.UriEscaped).Insert(url.Scheme.Length + 3, "***@") : url.GetLeftPart(UriPartial.Path);
}
