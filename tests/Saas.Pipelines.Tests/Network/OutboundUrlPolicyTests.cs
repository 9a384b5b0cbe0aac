using Saas.Pipelines.Network;

namespace Saas.Pipelines.Tests.Network;

public sealed class OutboundUrlPolicyTests
{
    private readonly StubResolver _resolver = new();
    private readonly LoopbackOnlyConnector _connector = new();

    private async Task<OutboundCallRefusedException> RefusedAsync(string url)
    {
        using var factory = Guard.Factory(new NetworkOptions(), _resolver, _connector);
        using var client = factory.CreateClient();
        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => client.GetAsync(url));
        Assert.Empty(_resolver.Lookups);
        Assert.Empty(_connector.Dialled);
        return refused;
    }

    [Theory]
    [InlineData("http://2130706433/")]
    [InlineData("http://0177.0.0.1/")]
    [InlineData("http://0x7f.1/")]
    [InlineData("http://0x7f000001/")]
    [InlineData("http://0x7F.0.0.1/")]
    [InlineData("http://017700000001/")]
    [InlineData("http://127.1/")]
    [InlineData("http://127.0.0.1./")]
    [InlineData("http://0x7f.1./")]
    [InlineData("http://2130706433./")]
    [InlineData("http://[::ffff:127.0.0.1]/")]
    [InlineData("http://[::ffff:7f00:1]/")]
    public async Task A_loopback_address_in_any_spelling_is_refused_before_any_lookup(string url)
    {
        var refused = await RefusedAsync(url);

        Assert.Contains("127.0.0.1", refused.Message);
        Assert.Contains("loopback", refused.Message);
        Assert.Contains("Flowgate:Network:AllowedPrivateNetworks", refused.Message);
    }

    [Theory]
    [InlineData("http://[::1]:8080/admin", "loopback")]
    [InlineData("http://2852039166/latest/meta-data/", "169.254.169.254, a link-local/cloud metadata")]
    [InlineData("http://0251.0376.0251.0376/", "169.254.169.254")]
    [InlineData("http://0xa9fea9fe/", "169.254.169.254")]
    [InlineData("https://[fd00:ec2::254]/", "cloud metadata")]
    [InlineData("http://0/", "0.0.0.0, an unspecified")]
    [InlineData("http://10.0.0.1/", "private")]
    public async Task Forbidden_address_literals_are_refused_before_any_lookup(string url, string reason)
    {
        var refused = await RefusedAsync(url);

        Assert.Contains(reason, refused.Message);
    }

    [Theory]
    [InlineData("ftp://public.example/file", "ftp")]
    [InlineData("file:///etc/passwd", "file")]
    [InlineData("gopher://public.example/", "gopher")]
    public async Task Schemes_other_than_http_and_https_are_refused(string url, string scheme)
    {
        var refused = await RefusedAsync(url);

        Assert.Contains($"scheme '{scheme}'", refused.Message);
    }

    [Theory]
    [InlineData("http://user:secret@public.example/")]
    [InlineData("http://public.example@evil.example/")]
    public async Task Urls_with_user_info_are_refused_without_echoing_the_credentials(string url)
    {
        var refused = await RefusedAsync(url);

        Assert.Contains("credentials", refused.Message);
        Assert.DoesNotContain("secret", refused.Message);
    }

    [Fact]
    public void Configured_urls_can_be_checked_when_they_are_saved()
    {
        using var factory = Guard.Factory(new NetworkOptions(), _resolver, _connector);

        factory.Urls.EnsureAllowed(new Uri("https://api.example.com/v1"));
        Assert.Throws<OutboundCallRefusedException>(() => factory.Urls.EnsureAllowed(new Uri("http://169.254.169.254/")));
    }

    [Theory]
    [InlineData("2130706433")]
    [InlineData("0177.0.0.1")]
    [InlineData("0x7f.1")]
    [InlineData("0x7f000001")]
    [InlineData("127.1")]
    [InlineData("127.0.0.1.")]
    [InlineData("[::ffff:127.0.0.1]")]
    public void Host_spellings_that_Uri_leaves_alone_are_still_read_as_the_address_they_mean(string host)
    {
        var address = OutboundUrlPolicy.TryParseLiteral(host);

        Assert.NotNull(address);
        Assert.Equal("127.0.0.1", (address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address).ToString());
    }

    [Theory]
    [InlineData("public.example")]
    [InlineData("127.0.0.1.nip.example")]
    [InlineData("0x7f.example")]
    public void Names_are_left_to_the_lookup_at_connect_time(string host)
    {
        Assert.Null(OutboundUrlPolicy.TryParseLiteral(host));
    }
}
