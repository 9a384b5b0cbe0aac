using System.Diagnostics;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Enrich;

/// <summary>
/// The sandbox matrix at the level tenants meet it: a hostile expression in a map step or in an http step's
/// field mapping ends its run with a clear error, quickly, while another tenant's run on the same engine
/// succeeds untouched. (Each limit on its own is pinned down in Expressions/SandboxTests.)
/// </summary>
public sealed class HostileExpressionTests
{
    public static TheoryData<string, string> Hostile() => new()
    {
        { "(() => { while (true) {} })()", "exceeded its" },
        { "(() => { let s = 'x'; for (let i = 0; i < 40; i++) s += s; return s.length; })()", "exceeded its" },
        { "Array.from({ length: 1e7 }).length", "exceeded its" },
        { "(function f(n) { return f(n + 1) + 1; })(0)", "exceeded its" },
        { "'x'.repeat(1e9).length", "record 1" },
        { "System.IO.File.ReadAllText('/etc/passwd')", "record 1" },
        { "importNamespace('System.IO')", "record 1" },
        { "record.constructor.constructor('return globalThis')()", "record 1" },
        { "this.constructor.constructor('return process')()", "record 1" },
        { "Function('return this')()", "record 1" },
        { "eval('1 + 1')", "record 1" },
        { "(() => { Object.prototype.polluted = 'yes'; return 1; })()", "record 1" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public async Task A_hostile_map_expression_fails_its_run_clearly_and_leaves_other_tenants_alone(string source, string expected)
    {
        await using var engine = new EnrichEngine();
        var hostile = $$$"""
            {"name":"p","trigger":{"type":"http"},"steps":[{"id":"evil","type":"map","fields":{"x":{{{System.Text.Json.JsonSerializer.Serialize(source)}}}}}]}
            """;
        var innocent = """
            {"name":"p","trigger":{"type":"http"},"steps":[{"id":"fine","type":"map","fields":{"leak":"({}).polluted ?? 'clean'","n2":"record.n * 2"}}]}
            """;
        var stopwatch = Stopwatch.StartNew();

        var bad = engine.RunAsync(hostile, """[{"n":1},{"n":2}]""", tenantName: "mallory");
        var good = engine.RunAsync(innocent, """[{"n":1},{"n":2}]""", tenantName: "alice");
        var (failed, succeeded) = (await bad, await good);

        Assert.Equal(RunStatus.Failed, failed.Run.Status);
        Assert.Contains("step 'evil': record 1:", failed.Run.Error);
        Assert.Contains(expected, failed.Run.Error);
        Assert.True(stopwatch.Elapsed < TimeSpan.FromSeconds(20), $"took {stopwatch.Elapsed}");
        Assert.Equal(RunStatus.Succeeded, succeeded.Run.Status);
        Assert.All(succeeded.Output, o => Assert.Equal("clean", o["leak"]!.GetValue<string>()));
    }

    [Theory]
    [InlineData("(() => { while (true) {} })()")]
    [InlineData("response.constructor.constructor('return globalThis')()")]
    [InlineData("(() => { Object.prototype.polluted = 'yes'; return 1; })()")]
    public async Task A_hostile_http_field_mapping_is_held_to_the_same_sandbox(string source)
    {
        await using var server = await LocalServer.StartAsync(context => Microsoft.AspNetCore.Http.HttpResponseJsonExtensions.WriteAsJsonAsync(context.Response, new { tier = "gold" }));
        await using var engine = new EnrichEngine();
        var definition = $$$"""
            {"name":"p","trigger":{"type":"http"},"steps":[
              {"id":"call","type":"http","url":"{{{server.Url}}}x","fields":{"x":{{{System.Text.Json.JsonSerializer.Serialize(source)}}},"leak":"({}).polluted ?? 'clean'"}}]}
            """;

        var result = await engine.RunAsync(definition, """[{"n":1}]""");
        var after = await engine.RunAsync(definition.Replace(System.Text.Json.JsonSerializer.Serialize(source), "\"response.tier\""), """[{"n":1}]""", tenantName: "next");

        Assert.Equal(RunStatus.Failed, result.Run.Status);
        Assert.Contains("step 'call': record 1:", result.Run.Error);
        Assert.Equal("clean", after.Output.Single()["leak"]!.GetValue<string>());
    }
}
