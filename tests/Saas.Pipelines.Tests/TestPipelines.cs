namespace Saas.Pipelines.Tests;

/// <summary>Definitions and inputs several test classes run.</summary>
internal static class TestPipelines
{
    public const string ThreeSteps = """
        {"name":"p","trigger":{"type":"http"},"steps":[
          {"id":"a","type":"map","fields":{"x":"record.n * 2"}},
          {"id":"b","type":"filter","where":"record.x > 2"},
          {"id":"c","type":"drop","fields":["n"]}]}
        """;

    /// <summary>Big enough that step outputs go to the blob store rather than inline into the database, so each step commits alone.</summary>
    public static readonly string LargeRecords = "[" + string.Join(",", Enumerable.Range(1, 3).Select(n => $$"""{"n":{{n}},"pad":"{{new string('x', 40_000)}}"}""")) + "]";
}
