using System.Net;
using Saas.Pipelines.Network;

namespace Saas.Pipelines.Tests.Network;

public sealed class AddressPolicyTests
{
    private static readonly AddressPolicy Strict = new([]);

    [Theory]
    [InlineData("127.0.0.1", "loopback")]
    [InlineData("127.255.255.254", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.0.0.1", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("172.31.255.255", "private")]
    [InlineData("192.168.1.1", "private")]
    [InlineData("fc00::1", "private")]
    [InlineData("fd12:3456::1", "private")]
    [InlineData("169.254.169.254", "link-local/cloud metadata")]
    [InlineData("169.254.1.1", "link-local")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("fd00:ec2::254", "cloud metadata")]
    [InlineData("100.100.100.200", "cloud metadata")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("100.127.255.255", "carrier-grade NAT")]
    [InlineData("224.0.0.1", "multicast")]
    [InlineData("239.255.255.250", "multicast")]
    [InlineData("ff02::1", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("0.1.2.3", "this network")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("192.0.2.1", "documentation")]
    [InlineData("198.51.100.1", "documentation")]
    [InlineData("203.0.113.1", "documentation")]
    [InlineData("2001:db8::1", "documentation")]
    [InlineData("198.18.0.1", "benchmarking")]
    [InlineData("192.0.0.8", "IETF protocol")]
    [InlineData("fec0::1", "site-local")]
    [InlineData("::ffff:127.0.0.1", "IPv4-mapped form of 127.0.0.1, a loopback")]
    [InlineData("::ffff:169.254.169.254", "IPv4-mapped form of 169.254.169.254, a link-local/cloud metadata")]
    [InlineData("::ffff:0:10.0.0.1", "IPv4-translated form of 10.0.0.1, a private")]
    [InlineData("::127.0.0.1", "IPv4-compatible form of 127.0.0.1, a loopback")]
    [InlineData("64:ff9b::a9fe:a9fe", "NAT64 form of 169.254.169.254")]
    [InlineData("64:ff9b::7f00:1", "NAT64 form of 127.0.0.1, a loopback")]
    [InlineData("64:ff9b:1::1", "local-use NAT64")]
    [InlineData("2002:7f00:1::1", "6to4 form of 127.0.0.1, a loopback")]
    [InlineData("2002:a9fe:a9fe::", "6to4 form of 169.254.169.254")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo")]
    [InlineData("100::1", "discard-only")]
    [InlineData("fe80::1%2", "link-local")]
    [InlineData("4000::1", "outside global unicast")]
    public void Forbidden_addresses_are_refused_with_their_kind(string address, string kind)
    {
        var why = Strict.WhyForbidden(IPAddress.Parse(address));

        Assert.NotNull(why);
        Assert.Contains(kind, why);
    }

    [Theory]
    [InlineData("8.8.8.8")]
    [InlineData("1.1.1.1")]
    [InlineData("172.32.0.1")]
    [InlineData("172.15.255.255")]
    [InlineData("100.128.0.1")]
    [InlineData("100.63.255.255")]
    [InlineData("169.253.255.255")]
    [InlineData("223.255.255.255")]
    [InlineData("2606:4700:4700::1111")]
    [InlineData("2a00:1450:4001:81b::200e")]
    [InlineData("::ffff:8.8.8.8")]
    [InlineData("64:ff9b::808:808")]
    [InlineData("2002:808:808::1")]
    public void Public_unicast_addresses_are_allowed(string address)
    {
        Assert.Null(Strict.WhyForbidden(IPAddress.Parse(address)));
    }

    [Fact]
    public void An_allowed_private_network_exempts_exactly_its_addresses()
    {
        var policy = new AddressPolicy([IPNetwork.Parse("10.1.0.0/16"), IPNetwork.Parse("::1/128")]);

        Assert.Null(policy.WhyForbidden(IPAddress.Parse("10.1.2.3")));
        Assert.Null(policy.WhyForbidden(IPAddress.Parse("::1")));
        Assert.NotNull(policy.WhyForbidden(IPAddress.Parse("10.2.0.1")));
        Assert.NotNull(policy.WhyForbidden(IPAddress.Parse("127.0.0.1")));
    }

    [Fact]
    public void An_allowed_IPv4_network_also_allows_its_IPv4_mapped_IPv6_form()
    {
        var policy = new AddressPolicy([IPNetwork.Parse("127.0.0.0/8")]);

        Assert.Null(policy.WhyForbidden(IPAddress.Parse("::ffff:127.0.0.1")));
        Assert.NotNull(policy.WhyForbidden(IPAddress.Parse("::ffff:10.0.0.1")));
    }

    [Theory]
    [InlineData("169.254.169.254")]
    [InlineData("fd00:ec2::254")]
    [InlineData("100.100.100.200")]
    [InlineData("::ffff:169.254.169.254")]
    public void Cloud_metadata_addresses_stay_refused_even_inside_an_allowed_network(string address)
    {
        var policy = new AddressPolicy([IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("fd00::/8"), IPNetwork.Parse("100.64.0.0/10")]);

        Assert.Contains("metadata", policy.WhyForbidden(IPAddress.Parse(address)));
        Assert.Null(policy.WhyForbidden(IPAddress.Parse("169.254.1.1")));
    }
}
