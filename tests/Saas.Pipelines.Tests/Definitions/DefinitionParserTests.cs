using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Tests.Definitions;

public sealed class DefinitionParserTests
{
    private static Dictionary<string, string> Errors(string json) =>
        DefinitionParser.Parse(json).Errors.ToDictionary(e => e.Path, e => e.Message);

    [Fact]
    public void Valid_definition_compiles_enabled_steps_in_order()
    {
        var result = DefinitionParser.Parse("""
            {"name":"orders","trigger":{"type":"upload","format":"csv","delimiter":";"},
             "steps":[{"id":"a","type":"rename","fields":{"q":"qty"}},{"id":"b","type":"drop","fields":["x"],"disabled":true},{"id":"c","type":"select","fields":["qty"]}],
             "sink":{"type":"blob","format":"csv"},"settings":{"maxAttempts":5,"chunkSize":100}}
            """);

        Assert.True(result.IsValid, string.Join("; ", result.Errors));
        var pipeline = result.Pipeline!;
        Assert.Equal(["a", "c"], pipeline.Steps.Select(s => s.Id));
        Assert.Equal(3, pipeline.Definition.Steps.Count);
        Assert.Equal(';', pipeline.Definition.Trigger.Delimiter);
        Assert.Equal(InputFormat.Csv, pipeline.Definition.Trigger.Format);
        Assert.Equal(SinkFormat.Csv, pipeline.Definition.Sink.Format);
        Assert.Equal(new PipelineSettings(5, 100, 300), pipeline.Definition.Settings);
    }

    [Fact]
    public void Expression_that_does_not_parse_is_reported_at_its_field_with_the_position()
    {
        var errors = Errors("""
            {"name":"p","trigger":{"type":"http"},"steps":[
              {"id":"a","type":"map","fields":{"ok":"record.a"}},
              {"id":"b","type":"map","fields":{"total":"(record.qty * record.price))"}}]}
            """);

        Assert.Equal("expression does not parse: Unexpected token ')' at 1:28", errors["steps[1].fields.total"]);
        Assert.Single(errors);
    }

    [Fact]
    public void Every_problem_is_reported_at_once()
    {
        var errors = Errors("""
            {"trigger":{"type":"schedule","cron":"61 * * * *","timeZone":"Mars/Olympus"},
             "steps":[{"type":"select","fields":[]},{"id":"x","type":"rename","fields":{"a":"c","b":"c"}}],
             "sink":{"type":"blob","format":"json","delimiter":"ab"},"settings":{"maxAttempts":0,"retries":3}}
            """);

        Assert.Equal("is required (a short name for the pipeline)", errors["name"]);
        Assert.Equal("'61 * * * *' is not a valid cron expression", errors["trigger.cron"]);
        Assert.StartsWith("'Mars/Olympus' is not a known IANA time zone", errors["trigger.timeZone"]);
        Assert.StartsWith("is required", errors["steps[0].id"]);
        Assert.Equal("must name at least one field", errors["steps[0].fields"]);
        Assert.Equal("several fields are renamed to 'c'", errors["steps[1].fields"]);
        Assert.StartsWith("must be one of", errors["sink.delimiter"]);
        Assert.Equal("must be between 1 and 20, found 0", errors["settings.maxAttempts"]);
        Assert.StartsWith("unknown property", errors["settings.retries"]);
    }

    [Theory]
    [InlineData("[]", "$", "must be an object, found an array")]
    [InlineData("{\"name\":\"p\",\"trigger\":{\"type\":\"queue\"},\"steps\":[{\"id\":\"a\",\"type\":\"select\",\"fields\":[\"a\"]}]}", "trigger.queue", "is required (the queue name messages are posted to, e.g. \"orders\")")]
    [InlineData("{\"name\":\"p\",\"trigger\":{\"type\":\"http\"},\"steps\":[]}", "steps", "must contain at least one step")]
    [InlineData("{\"name\":\"p\",\"trigger\":{\"type\":\"http\"},\"steps\":[{\"id\":\"a\",\"type\":\"filter\",\"where\":\"\"}]}", "steps[0].where", "must not be empty (a JavaScript condition over `record`, e.g. record.total > 100)")]
    public void Single_problems_are_precise(string json, string path, string message)
    {
        Assert.Equal(message, Errors(json)[path]);
    }

    [Fact]
    public void Invalid_json_reports_line_and_column()
    {
        var error = Assert.Single(DefinitionParser.Parse("{\"name\": \"p\",\n  \"steps\": [,]}").Errors);

        Assert.Equal("$", error.Path);
        Assert.StartsWith("the definition is not valid JSON at line 2, column", error.Message);
    }
}
