using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Runs;

public sealed class DraftRunTests
{
    private const string CsvPipeline = """
        {"name":"orders","trigger":{"type":"upload","format":"csv","delimiter":";"},"steps":[
          {"id":"total","type":"map","fields":{"total":"Number(record.qty) * Number(record.price)"}},
          {"id":"off","type":"drop","fields":["qty"],"disabled":true},
          {"id":"big","type":"filter","where":"record.total >= 100"},
          {"id":"shape","type":"select","fields":["order","total"]}],
         "sink":{"type":"blob","format":"csv"}}
        """;

    private static readonly DraftRunner Runner = new(new ServiceCollection().BuildServiceProvider());

    private static Stream Text(string text) => new MemoryStream(Encoding.UTF8.GetBytes(text));

    [Fact]
    public async Task A_csv_sample_is_read_like_an_upload_and_every_enabled_step_reports_its_counts_and_output()
    {
        var csv = "order;qty;price\nA-1;2;75\nA-2;1;20\n\"A;3\";10;12.5\n";

        var result = await Runner.RunAsync("t", CsvPipeline, Text(csv), null, CancellationToken.None);

        Assert.True(result.Succeeded, result.SampleError);
        Assert.Equal(3, result.Input!.Records);
        Assert.False(result.Input.Truncated);
        Assert.Equal(["order", "qty", "price"], result.Input.Fields);
        Assert.Equal(["total", "big", "shape"], result.Steps.Select(s => s.StepId));
        Assert.Equal([3L, 3L, 2L], result.Steps.Select(s => s.RecordsIn));
        Assert.Equal([3L, 2L, 2L], result.Steps.Select(s => s.RecordsOut));
        Assert.Equal(["order", "qty", "price", "total"], result.Steps[0].Fields);
        var shaped = result.Steps[2].Preview;
        Assert.Equal("A;3", shaped[1]["order"]);
        Assert.Equal(125d, shaped[1]["total"]);
        Assert.Equal(["order", "total"], shaped[0].Keys);
        Assert.All(result.Steps, s => Assert.True(s.Duration >= TimeSpan.Zero));
    }

    [Fact]
    public async Task A_step_that_throws_reports_the_record_number_and_the_record_and_later_steps_do_not_run()
    {
        const string pipeline = """
            {"name":"p","trigger":{"type":"http"},"steps":[
              {"id":"upper","type":"map","fields":{"c":"record.country.toUpperCase()"}},
              {"id":"after","type":"select","fields":["c"]}]}
            """;

        var result = await Runner.RunAsync("t", pipeline, Text("""[{"country":"de"},{"country":"fr"},{"name":"no country"}]"""), null, CancellationToken.None);

        Assert.False(result.Succeeded);
        var failed = Assert.Single(result.Steps);
        Assert.Equal("upper", failed.StepId);
        Assert.Equal(3, failed.ErrorRecordNumber);
        Assert.Equal("""{"name":"no country"}""", failed.ErrorRecord);
        Assert.StartsWith("record 3: ", failed.Error);
        Assert.Equal(3, failed.RecordsIn);
        Assert.Equal(2, failed.RecordsOut);
    }

    [Fact]
    public async Task Only_the_first_thousand_records_of_a_sample_are_read()
    {
        var jsonl = string.Concat(Enumerable.Range(1, 2_500).Select(n => $$"""{"n":{{n}}}""" + "\n"));
        const string pipeline = """{"name":"p","trigger":{"type":"upload","format":"jsonl"},"steps":[{"id":"a","type":"map","fields":{"m":"record.n * 2"}}]}""";

        var result = await Runner.RunAsync("t", pipeline, Text(jsonl), null, CancellationToken.None);

        Assert.Equal(DraftRunner.MaxRecords, result.Input!.Records);
        Assert.True(result.Input.Truncated);
        Assert.Equal(DraftRunner.MaxRecords, result.Steps[0].RecordsIn);
        Assert.Equal(DraftRunner.PreviewRecords, result.Steps[0].Preview.Count);
        Assert.Equal(2d, result.Steps[0].Preview[0]["m"]);
    }

    [Fact]
    public async Task A_sample_of_exactly_a_thousand_records_is_not_reported_as_cut()
    {
        var jsonl = string.Concat(Enumerable.Range(1, 1_000).Select(n => $$"""{"n":{{n}}}""" + "\n"));
        const string pipeline = """{"name":"p","trigger":{"type":"queue","queue":"q"},"steps":[{"id":"a","type":"drop","fields":["x"]}]}""";

        var result = await Runner.RunAsync("t", pipeline, Text(jsonl), new DraftSampleFormat(InputFormat.Jsonl), CancellationToken.None);

        Assert.Equal(1_000, result.Input!.Records);
        Assert.False(result.Input.Truncated);
    }

    [Fact]
    public async Task A_draft_writes_no_run_no_step_run_no_blob_and_no_usage_event()
    {
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(CsvPipeline);

        var result = await engine.Get<DraftRunner>().RunAsync(tenant, CsvPipeline, Text("order;qty;price\nA-1;2;75\n"), null, CancellationToken.None);

        Assert.True(result.Succeeded);
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM runs"));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM step_runs"));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM work_items"));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM usage_events"));
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM small_blobs"));
        Assert.False(Directory.Exists(Path.Combine(engine.DataDirectory, "blobs", tenant)) && Directory.EnumerateFiles(Path.Combine(engine.DataDirectory, "blobs", tenant), "*", SearchOption.AllDirectories).Any());
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM pipelines WHERE id = @Id", new { pipeline.Id }));
    }

    [Fact]
    public async Task A_lone_json_object_is_one_record_and_a_json_array_is_its_elements()
    {
        const string pipeline = """{"name":"p","trigger":{"type":"http"},"steps":[{"id":"a","type":"map","fields":{"y":"record.x + 1"}}]}""";
        var runner = Runner;

        var one = await runner.RunAsync("t", pipeline, Text("""  { "x": 1 }  """), null, CancellationToken.None);
        var many = await runner.RunAsync("t", pipeline, Text("""[ {"x": 1}, {"x": 2} ]"""), null, CancellationToken.None);

        Assert.Equal(2d, Assert.Single(one.Steps[0].Preview)["y"]);
        Assert.Equal([2d, 3d], many.Steps[0].Preview.Select(r => r["y"]));
    }

    [Fact]
    public async Task A_sample_that_does_not_parse_says_where_and_runs_nothing()
    {
        var result = await Runner.RunAsync("t", CsvPipeline, Text("order;qty;price\nA-1;2\n"), null, CancellationToken.None);

        Assert.Equal("the sample does not parse as csv: line 2, column 6: expected 3 fields (as in the header) but found 2", result.SampleError);
        Assert.Empty(result.Steps);
    }

    [Fact]
    public async Task An_invalid_definition_returns_its_errors_with_paths_and_runs_nothing()
    {
        const string pipeline = """{"name":"p","trigger":{"type":"http"},"steps":[{"id":"a","type":"map","fields":{"y":"record.x +"}}]}""";

        var result = await Runner.RunAsync("t", pipeline, Text("[]"), null, CancellationToken.None);

        var error = Assert.Single(result.Errors);
        Assert.Equal("steps[0].fields.y", error.Path);
        Assert.Null(result.Input);
        Assert.Empty(result.Steps);
    }
}
