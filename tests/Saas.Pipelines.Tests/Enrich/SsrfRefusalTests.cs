using Microsoft.AspNetCore.Http;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;

namespace Saas.Pipelines.Tests.Enrich;

/// <summary>
/// The SSRF refusal matrix, run through both things tenants point at URLs: the http step and the webhook sink.
/// Names resolve from a script; the connector dials only 127.0.0.1 (allow-listed as if public here) and
/// records every address, so a refused address is provably never dialled.
/// </summary>
public sealed class SsrfRefusalTests
{
    public static TheoryData<string, string, string> Cases()
    {
        var data = new TheoryData<string, string, string>();
        (string Url, string Reason)[] cases =
        [
            ("http://2852039166/latest/meta-data/", "169.254.169.254, a link-local/cloud metadata"),
            ("http://0251.0376.0251.0376/", "169.254.169.254"),
            ("http://0xa9fea9fe/", "169.254.169.254"),
            ("http://[::ffff:169.254.169.254]/", "IPv4-mapped form of 169.254.169.254"),
            ("http://[::ffff:a00:1]/", "IPv4-mapped form of 10.0.0.1"),
            ("http://[fd00:ec2::254]/", "cloud metadata"),
            ("http://100.100.100.200/", "cloud metadata"),
            ("http://0/", "0.0.0.0, an unspecified"),
            ("http://10.0.0.1/", "a private address"),
            ("http://[::1]/", "a loopback address"),
            ("http://metadata.example/", "resolved to 169.254.169.254"),
            ("http://mapped.example/", "resolved to ::ffff:192.168.1.1"),
            ("http://mixed.example/", "resolved to 10.1.2.3"),
            ("redirect:http://169.254.169.254/latest/meta-data/", "169.254.169.254"),
            ("redirect:http://metadata.example/", "resolved to 169.254.169.254"),
            ("redirect:file:///etc/passwd", "the scheme 'file'"),
            ("redirect:gopher://public.example/", "the scheme 'gopher'"),
        ];
        foreach (var target in new[] { "http step", "webhook sink" })
        {
            foreach (var (url, reason) in cases)
            {
                data.Add(target, url, reason);
            }
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task Forbidden_destinations_are_refused_and_never_dialled(string target, string url, string reason)
    {
        await using var server = await LocalServer.StartAsync(context =>
        {
            context.Response.StatusCode = 302;
            context.Response.Headers.Location = url["redirect:".Length..];
            return Task.CompletedTask;
        });
        await using var engine = new EnrichEngine();
        engine.Resolver.Answer("metadata.example", "169.254.169.254").Answer("mapped.example", "::ffff:192.168.1.1")
            .Answer("mixed.example", "127.0.0.1", "10.1.2.3").Answer("public.example", "127.0.0.1");
        var destination = url.StartsWith("redirect:", StringComparison.Ordinal) ? $"http://public.example:{server.Port}/go" : url;

        var result = await engine.RunAsync(Definition(target, destination), """{"id":"1"}""", new Dictionary<string, string> { ["hook"] = "k" });

        Assert.Equal(RunStatus.Failed, result.Run.Status);
        Assert.Contains("refused", result.Run.Error);
        Assert.Contains(reason, result.Run.Error);
        Assert.All(engine.Connector.Dialled, endPoint => Assert.Equal("127.0.0.1", endPoint.Address.ToString()));
    }

    [Theory]
    [InlineData("http step")]
    [InlineData("webhook sink")]
    public async Task A_name_that_rebinds_to_a_forbidden_address_for_a_new_connection_is_refused_there(string target)
    {
        await using var server = await LocalServer.StartAsync(context =>
        {
            context.Response.Headers.Connection = "close";
            return context.Response.WriteAsJsonAsync(new { tier = "gold" });
        });
        await using var engine = new EnrichEngine();
        engine.Resolver.Answer("rebind.example", "127.0.0.1").Answer("rebind.example", "169.254.169.254");
        var url = $"http://rebind.example:{server.Port}/x";

        var first = await engine.RunAsync(Definition(target, url), """{"id":"1"}""", new Dictionary<string, string> { ["hook"] = "k" }, "a");
        var second = await engine.RunAsync(Definition(target, url), """{"id":"2"}""", new Dictionary<string, string> { ["hook"] = "k" }, "b");

        Assert.Equal(RunStatus.Succeeded, first.Run.Status);
        Assert.Equal(RunStatus.Failed, second.Run.Status);
        Assert.Contains("rebind.example resolved to 169.254.169.254", second.Run.Error);
        Assert.All(engine.Connector.Dialled, endPoint => Assert.Equal("127.0.0.1", endPoint.Address.ToString()));
    }

    private static string Definition(string target, string url) => target == "http step"
        ? $$$"""
            {"name":"p","trigger":{"type":"http"},"steps":[
              {"id":"call","type":"http","url":"{{{url}}}","retries":0,"fields":{"tier":"response.tier"}}]}
            """
        : $$$"""
            {"name":"p","trigger":{"type":"http"},"steps":[{"id":"s","type":"select","fields":["id"]}],
             "sink":{"type":"webhook","url":"{{{url}}}","secret":"hook"},"settings":{"maxAttempts":1}}
            """;
}
