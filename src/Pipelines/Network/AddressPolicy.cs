using System.Net;
using System.Net.Sockets;

namespace Saas.Pipelines.Network;

/// <summary>
/// Decides which IP addresses outbound calls may reach: public unicast only, unless the address lies in
/// one of the configured allowed networks. IPv6 forms that carry an IPv4 address are judged by that address.
/// </summary>
public sealed class AddressPolicy(IEnumerable<IPNetwork> allowedNetworks)
{
    private readonly IPNetwork[] _allowed = allowedNetworks.ToArray();

    // First match wins, so the specific entries come before the ranges that contain them.
    private static readonly (IPNetwork Network, string Kind)[] ForbiddenV4 =
    [
        (IPNetwork.Parse("0.0.0.0/32"), "an unspecified address"),
        (IPNetwork.Parse("0.0.0.0/8"), "a 'this network' (0/8) address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("100.100.100.200/32"), "a cloud metadata address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a carrier-grade NAT address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("169.254.169.254/32"), "a link-local/cloud metadata address"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.0.0.0/24"), "an IETF protocol assignment address"),
        (IPNetwork.Parse("192.0.2.0/24"), "a documentation address"),
        (IPNetwork.Parse("192.88.99.0/24"), "a deprecated 6to4 relay address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("198.18.0.0/15"), "a benchmarking address"),
        (IPNetwork.Parse("198.51.100.0/24"), "a documentation address"),
        (IPNetwork.Parse("203.0.113.0/24"), "a documentation address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("255.255.255.255/32"), "a broadcast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved address"),
    ];

    private static readonly (IPNetwork Network, string Kind)[] ForbiddenV6 =
    [
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("fd00:ec2::254/128"), "a cloud metadata address"),
        (IPNetwork.Parse("fc00::/7"), "a private (unique local) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("fec0::/10"), "a deprecated site-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
        (IPNetwork.Parse("64:ff9b:1::/48"), "a local-use NAT64 address"),
        (IPNetwork.Parse("100::/64"), "a discard-only address"),
        (IPNetwork.Parse("2001::/32"), "a Teredo tunnel address"),
        (IPNetwork.Parse("2001:2::/48"), "a benchmarking address"),
        (IPNetwork.Parse("2001:10::/28"), "an ORCHID address"),
        (IPNetwork.Parse("2001:20::/28"), "an ORCHIDv2 address"),
        (IPNetwork.Parse("2001:db8::/32"), "a documentation address"),
        (IPNetwork.Parse("3fff::/20"), "a documentation address"),
        (IPNetwork.Parse("5f00::/16"), "an SRv6 segment identifier address"),
    ];

    // Instance credentials live here; no allow-list entry may open them to tenant-controlled URLs.
    private static readonly IPAddress[] CloudMetadata =
        [IPAddress.Parse("169.254.169.254"), IPAddress.Parse("fd00:ec2::254"), IPAddress.Parse("100.100.100.200")];

    private static readonly IPNetwork GlobalUnicastV6 = IPNetwork.Parse("2000::/3");
    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");
    private static readonly IPNetwork IPv4Compatible = IPNetwork.Parse("::/96");
    private static readonly IPNetwork IPv4Translated = IPNetwork.Parse("::ffff:0:0:0/96");

    public static AddressPolicy From(NetworkOptions options) => new(options.ParseAllowedPrivateNetworks());

    /// <summary>
    /// Null when the address may be dialled; otherwise why not, e.g. "a loopback address".
    /// Cloud metadata addresses are refused even inside an allowed network.
    /// </summary>
    public string? WhyForbidden(IPAddress address)
    {
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && address.ScopeId != 0)
        {
            address = new IPAddress(address.GetAddressBytes());
        }
        if (Array.IndexOf(CloudMetadata, address) >= 0)
        {
            return address.Equals(CloudMetadata[0]) ? "a link-local/cloud metadata address" : "a cloud metadata address";
        }
        if (address.AddressFamily == AddressFamily.InterNetworkV6 && EmbeddedIPv4(address) is ({ } embedded, var form))
        {
            return WhyForbidden(embedded) is { } why ? $"{form} of {embedded}, {why}" : null;
        }
        if (IsAllowListed(address))
        {
            return null;
        }
        if (address.AddressFamily == AddressFamily.InterNetwork)
        {
            return KindOf(address, ForbiddenV4);
        }
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return "not an IP address";
        }
        return KindOf(address, ForbiddenV6)
            ?? (GlobalUnicastV6.Contains(address) ? null : "an IPv6 address outside global unicast (2000::/3)");
    }

    private bool IsAllowListed(IPAddress address)
    {
        foreach (var network in _allowed)
        {
            if (network.Contains(address))
            {
                return true;
            }
        }
        return false;
    }

    private static string? KindOf(IPAddress address, (IPNetwork Network, string Kind)[] table)
    {
        foreach (var (network, kind) in table)
        {
            if (network.Contains(address))
            {
                return kind;
            }
        }
        return null;
    }

    private static (IPAddress? Address, string Form) EmbeddedIPv4(IPAddress v6)
    {
        var bytes = v6.GetAddressBytes();
        if (v6.IsIPv4MappedToIPv6)
        {
            return (v6.MapToIPv4(), "an IPv4-mapped form");
        }
        if (IPv4Translated.Contains(v6))
        {
            return (new IPAddress(bytes.AsSpan(12, 4)), "an IPv4-translated form");
        }
        if (Nat64.Contains(v6))
        {
            return (new IPAddress(bytes.AsSpan(12, 4)), "a NAT64 form");
        }
        if (SixToFour.Contains(v6))
        {
            return (new IPAddress(bytes.AsSpan(2, 4)), "a 6to4 form");
        }
        // :: and ::1 are themselves, not IPv4-compatible forms of 0.0.0.0 and 0.0.0.1.
        if (IPv4Compatible.Contains(v6) && !v6.Equals(IPAddress.IPv6Any) && !v6.Equals(IPAddress.IPv6Loopback))
        {
            return (new IPAddress(bytes.AsSpan(12, 4)), "an IPv4-compatible form");
        }
        return (null, "");
    }
}
