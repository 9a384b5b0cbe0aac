using Saas.Pipelines.Definitions;

namespace Saas.Pipelines.Tests.Enrich;

public sealed class EnrichDefinitionTests
{
    private static string Errors(string step, string sink = """{"type":"blob"}""") =>
        string.Join("; ", DefinitionParser.Parse($$"""{"name":"p","trigger":{"type":"http"},"steps":[{{step}}],"sink":{{sink}}}""").Errors);

    [Theory]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/{{secrets.token}}","fields":{"a":"response.a"}}""", "steps[0].url: {{secrets.token}}: secrets may be used in headers and the body only, never in the URL")]
    [InlineData("""{"id":"h","type":"http","url":"{{record.url}}","fields":{"a":"response.a"}}""", "steps[0].url: must start with http:// or https://")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/{{record.id","fields":{"a":"response.a"}}""", "steps[0].url: '{{' at character 19 is never closed")]
    [InlineData("""{"id":"h","type":"http","url":"https://{{record.host}}/x","fields":{"a":"response.a"}}""", "steps[0].url: must start with http:// or https:// and a host written out")]
    [InlineData("""{"id":"h","type":"http","url":"https://api.{{record.domain}}/x","fields":{"a":"response.a"}}""", "steps[0].url: must start with http:// or https:// and a host written out")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","body":{"a":1},"fields":{"a":"response.a"}}""", "steps[0].body: a GET request has no body")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","onError":"ignore","fields":{"a":"response.a"}}""", "steps[0].onError: 'ignore' is not one of 'fail', 'skip', 'null'")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","errorField":"e","fields":{"a":"response.a"}}""", "steps[0].errorField: applies only with \"onError\": \"null\"")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","fields":{"a":"response.a +"}}""", "steps[0].fields.a: expression does not parse")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","headers":{"Authorization":"Bearer {{secrets.9x}}"},"fields":{"a":"response.a"}}""", "steps[0].headers.Authorization: {{secrets.9x}}: '9x' is not a secret name")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","concurrency":500,"fields":{"a":"response.a"}}""", "steps[0].concurrency: must be between 1 and 64, found 500")]
    [InlineData("""{"id":"h","type":"http","url":"https://x.example/","field":{"a":"response.a"}}""", "steps[0].field: unknown property; did you mean 'fields'?")]
    [InlineData("""{"id":"l","type":"lookup","table":"t","on":{"a":"b"},"fields":{"x":"y"},"default":{"z":1}}""", "steps[0].default.z: is not one of the step's fields (x)")]
    [InlineData("""{"id":"l","type":"lookup","table":"t","fields":{"x":"y"}}""", "steps[0].on: is required")]
    public void Step_problems_are_reported_with_their_path(string step, string expected)
    {
        Assert.Contains(expected, Errors(step));
    }

    [Theory]
    [InlineData("""{"type":"webhook","url":"https://x.example/hook"}""", "sink.secret: is required")]
    [InlineData("""{"type":"webhook","url":"https://x.example/hook","secret":"k","format":"csv"}""", "sink.format: a webhook sink sends JSON records")]
    [InlineData("""{"type":"queue"}""", "sink.queue: is required")]
    [InlineData("""{"type":"queue","queue":"-bad"}""", "sink.queue: must be 1-63 characters")]
    [InlineData("""{"type":"blob","path":"exports/{{run.id}}/../x"}""", "sink.path: 'exports/x/../x' must be a relative path")]
    [InlineData("""{"type":"ftp"}""", "sink.type: 'ftp' is not one of 'blob', 'webhook', 'queue'")]
    public void Sink_problems_are_reported_with_their_path(string sink, string expected)
    {
        Assert.Contains(expected, Errors("""{"id":"s","type":"select","fields":["a"]}""", sink));
    }
}
