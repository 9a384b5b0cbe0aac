using System.Net;
using System.Text;
using Saas.Pipelines.Network;

namespace Saas.Pipelines.Tests.Network;

public sealed class GuardedHttpClientFactoryTests
{
    private readonly StubResolver _resolver = new();
    private readonly LoopbackOnlyConnector _connector = new();

    [Theory]
    [InlineData("127.0.0.2", "loopback")]
    [InlineData("::1", "loopback")]
    [InlineData("10.0.0.5", "private")]
    [InlineData("172.16.0.1", "private")]
    [InlineData("192.168.0.1", "private")]
    [InlineData("fd00::1", "private")]
    [InlineData("169.254.169.254", "link-local/cloud metadata")]
    [InlineData("fe80::1", "link-local")]
    [InlineData("100.64.0.1", "carrier-grade NAT")]
    [InlineData("224.0.0.251", "multicast")]
    [InlineData("255.255.255.255", "broadcast")]
    [InlineData("0.0.0.0", "unspecified")]
    [InlineData("::", "unspecified")]
    [InlineData("240.0.0.1", "reserved")]
    [InlineData("192.0.2.10", "documentation")]
    [InlineData("::ffff:169.254.169.254", "IPv4-mapped form of 169.254.169.254")]
    [InlineData("64:ff9b::a00:1", "NAT64 form of 10.0.0.1")]
    [InlineData("2002:a00:1::1", "6to4 form of 10.0.0.1")]
    [InlineData("fd00:ec2::254", "cloud metadata")]
    [InlineData("2001:0:4136:e378:8000:63bf:3fff:fdd2", "Teredo")]
    public async Task A_name_resolving_to_a_forbidden_address_is_refused_and_never_dialled(string answer, string kind)
    {
        _resolver.Answer("evil.example", answer);
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);
        using var client = factory.CreateClient();

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => client.GetAsync("http://evil.example/"));

        Assert.StartsWith($"refused: evil.example resolved to {IPAddress.Parse(answer)}, ", refused.Message);
        Assert.Contains(kind, refused.Message);
        Assert.EndsWith("only public addresses are allowed (Flowgate:Network:AllowedPrivateNetworks)", refused.Message);
        Assert.Empty(_connector.Dialled);
    }

    [Fact]
    public async Task A_name_with_one_forbidden_answer_among_allowed_ones_is_refused()
    {
        _resolver.Answer("evil.example", "127.0.0.1", "169.254.169.254");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);
        using var client = factory.CreateClient();

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => client.GetAsync("http://evil.example/"));

        Assert.Contains("169.254.169.254", refused.Message);
        Assert.Empty(_connector.Dialled);
    }

    [Fact]
    public async Task A_request_asking_for_HTTP3_still_connects_through_the_guard()
    {
        _resolver.Answer("evil.example", "10.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);
        using var request = new HttpRequestMessage(HttpMethod.Get, "https://evil.example/")
        {
            Version = HttpVersion.Version30,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => factory.CreateClient().SendAsync(request));

        Assert.Contains("evil.example resolved to 10.0.0.1", refused.Message);
        Assert.Empty(_connector.Dialled);
    }

    [Fact]
    public async Task An_allowed_address_reaches_the_server()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(LoopbackHttpServer.Response(200, "hello")));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);
        using var client = factory.CreateClient();

        var body = await client.GetStringAsync($"http://public.example:{server.Port}/ping");

        Assert.Equal("hello", body);
        Assert.Equal(["/ping"], server.Paths);
        Assert.Equal([new IPEndPoint(IPAddress.Loopback, server.Port)], _connector.Dialled);
    }

    [Fact]
    public async Task Loopback_is_refused_unless_its_network_is_allowed()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(LoopbackHttpServer.Response(200, "hello")));
        using var strict = Guard.Factory(new NetworkOptions(), _resolver, _connector);
        using var allowing = Guard.Factory(new NetworkOptions { AllowedPrivateNetworks = ["127.0.0.0/8"] }, _resolver, _connector);

        await Assert.ThrowsAsync<OutboundCallRefusedException>(() => strict.CreateClient().GetStringAsync($"http://127.0.0.1:{server.Port}/"));
        Assert.Equal("hello", await allowing.CreateClient().GetStringAsync($"http://127.0.0.1:{server.Port}/"));
        Assert.Single(_connector.Dialled);
    }

    [Fact]
    public async Task Each_connection_dials_the_address_its_own_lookup_checked_so_rebinding_cannot_reach_a_forbidden_one()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(LoopbackHttpServer.Response(200, "hello")));
        _resolver.Answer("rebind.example", "127.0.0.1").Answer("rebind.example", "169.254.169.254");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);
        var url = $"http://rebind.example:{server.Port}/";

        Assert.Equal("hello", await factory.CreateClient().GetStringAsync(url));
        // The server closes each connection, so the next call connects, and looks up, afresh.
        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => factory.CreateClient().GetStringAsync(url));

        Assert.Contains("rebind.example resolved to 169.254.169.254", refused.Message);
        Assert.Equal(["rebind.example", "rebind.example"], _resolver.Lookups);
        Assert.All(_connector.Dialled, endPoint => Assert.Equal(IPAddress.Loopback, endPoint.Address));
        Assert.Single(_connector.Dialled);
    }

    [Fact]
    public async Task A_redirect_to_a_forbidden_address_literal_is_refused_before_it_is_requested()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(
            LoopbackHttpServer.Response(302, "", "Location: http://169.254.169.254/latest/meta-data/")));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => factory.CreateClient().GetAsync($"http://public.example:{server.Port}/go"));

        Assert.Contains("169.254.169.254, a link-local/cloud metadata address", refused.Message);
        Assert.Single(_connector.Dialled);
    }

    [Fact]
    public async Task A_redirect_to_a_name_resolving_to_a_forbidden_address_is_refused()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(
            LoopbackHttpServer.Response(307, "", "Location: http://evil.example/")));
        _resolver.Answer("public.example", "127.0.0.1").Answer("evil.example", "10.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => factory.CreateClient().GetAsync($"http://public.example:{server.Port}/go"));

        Assert.Contains("evil.example resolved to 10.0.0.1, a private address", refused.Message);
        Assert.Single(_connector.Dialled);
    }

    [Fact]
    public async Task Allowed_redirects_are_followed_and_re_checked()
    {
        await using var server = new LoopbackHttpServer(path => Task.FromResult<byte[]?>(path == "/start"
            ? LoopbackHttpServer.Response(301, "", "Location: /end")
            : LoopbackHttpServer.Response(200, "arrived")));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);

        var body = await factory.CreateClient().GetStringAsync($"http://public.example:{server.Port}/start");

        Assert.Equal("arrived", body);
        Assert.Equal(["/start", "/end"], server.Paths);
    }

    [Fact]
    public async Task A_redirect_to_another_host_drops_the_authorization_header_and_a_303_turns_a_post_into_a_get()
    {
        LoopbackHttpServer? server = null;
        server = new LoopbackHttpServer(path => Task.FromResult<byte[]?>(path == "/hook"
            ? LoopbackHttpServer.Response(303, "", $"Location: http://other.example:{server!.Port}/done")
            : LoopbackHttpServer.Response(200, "ok")));
        await using var _ = server;
        _resolver.Answer("public.example", "127.0.0.1").Answer("other.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(), _resolver, _connector);
        using var request = new HttpRequestMessage(HttpMethod.Post, $"http://public.example:{server.Port}/hook") { Content = new StringContent("{}") };
        request.Headers.Authorization = new("Bearer", "tenant-secret");

        using var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var requests = server.Requests.ToArray();
        Assert.StartsWith("POST /hook", requests[0]);
        Assert.Contains("tenant-secret", requests[0]);
        Assert.StartsWith("GET /done", requests[1]);
        Assert.DoesNotContain("tenant-secret", requests[1]);
    }

    [Fact]
    public async Task More_redirects_than_allowed_are_refused_naming_the_limit()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(LoopbackHttpServer.Response(302, "", "Location: /again")));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(o => o.MaxRedirects = 2), _resolver, _connector);

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => factory.CreateClient().GetAsync($"http://public.example:{server.Port}/"));

        Assert.Contains("more than 2 times (Flowgate:Network:MaxRedirects)", refused.Message);
        Assert.Equal(3, server.Paths.Count);
    }

    [Fact]
    public async Task A_response_announcing_more_than_the_limit_is_refused_naming_the_limit()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(LoopbackHttpServer.Response(200, new string('x', 2_000))));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(o => o.MaxResponseBytes = 1_000), _resolver, _connector);

        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => factory.CreateClient().GetStringAsync($"http://public.example:{server.Port}/"));

        Assert.Contains("larger than 1000 bytes (Flowgate:Network:MaxResponseBytes)", refused.Message);
    }

    [Fact]
    public async Task A_streamed_response_without_a_length_is_cut_off_at_the_limit()
    {
        var unannounced = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + new string('x', 5_000));
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(unannounced));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(o => o.MaxResponseBytes = 1_000), _resolver, _connector);
        using var client = factory.CreateClient();

        using var response = await client.GetAsync($"http://public.example:{server.Port}/", HttpCompletionOption.ResponseHeadersRead);
        await using var body = await response.Content.ReadAsStreamAsync();
        var refused = await Assert.ThrowsAsync<OutboundCallRefusedException>(() => body.CopyToAsync(Stream.Null));

        Assert.Contains("larger than 1000 bytes (Flowgate:Network:MaxResponseBytes)", refused.Message);
    }

    [Fact]
    public async Task A_response_within_the_limit_is_read_whole()
    {
        var unannounced = Encoding.ASCII.GetBytes("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n" + new string('x', 1_000));
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(unannounced));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(o => o.MaxResponseBytes = 1_000), _resolver, _connector);

        var body = await factory.CreateClient().GetStringAsync($"http://public.example:{server.Port}/");

        Assert.Equal(1_000, body.Length);
    }

    [Fact]
    public async Task A_server_that_never_answers_times_out()
    {
        await using var server = new LoopbackHttpServer(_ => Task.FromResult<byte[]?>(null));
        _resolver.Answer("public.example", "127.0.0.1");
        using var factory = Guard.Factory(Guard.LoopbackIsPublic(o => o.Timeout = TimeSpan.FromMilliseconds(300)), _resolver, _connector);

        var timedOut = await Assert.ThrowsAsync<TaskCanceledException>(() => factory.CreateClient().GetAsync($"http://public.example:{server.Port}/"));

        Assert.IsType<TimeoutException>(timedOut.InnerException);
    }
}
