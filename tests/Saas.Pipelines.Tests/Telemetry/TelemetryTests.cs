using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Trace;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Telemetry;

namespace Saas.Pipelines.Tests.Telemetry;

/// <summary>Metrics are process-wide, so these tests run alone: no other test's runs are counted.</summary>
[CollectionDefinition(nameof(TelemetryTests), DisableParallelization = true)]
public sealed class TelemetryCollection;

/// <summary>One run's trace and metrics, collected with OpenTelemetry's in-memory exporter.</summary>
[Collection(nameof(TelemetryTests))]
public sealed class TelemetryTests
{
    [Fact]
    public async Task A_run_is_one_trace_from_its_trigger_through_each_step_with_execution_metrics()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(FlowgateTelemetry.Name).AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(FlowgateTelemetry.Name).AddInMemoryExporter(metrics).Build();
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);

        var run = await engine.StartAsync(tenant, pipeline, """[{"n":1},{"n":2}]""");
        await engine.DrainAsync();
        tracing!.ForceFlush();
        meters!.ForceFlush();

        var trace = FlowgateTelemetry.RunContext(run.Id);
        var ofRun = spans.Where(s => (string?)s.GetTagItem("flowgate.run.id") == run.Id).ToList();
        Assert.Equal(["trigger http", "step a", "step b", "step c"], ofRun.Select(s => s.DisplayName));
        Assert.All(ofRun, span => Assert.Equal(trace.TraceId, span.TraceId));
        Assert.All(ofRun, span => Assert.Equal(trace.SpanId, span.ParentSpanId));
        Assert.Equal([2L, 2L, 1L], ofRun.Skip(1).Select(s => (long)s.GetTagItem("flowgate.records.in")!));
        Assert.Equal(tenant, ofRun[1].GetTagItem("flowgate.tenant.id"));

        Assert.Equal(3, Sum(metrics, "flowgate.work.executions", "flowgate.outcome", "succeeded"));
        Assert.Equal(1, Sum(metrics, "flowgate.runs.started", "flowgate.trigger", "http"));
        Assert.Equal(1, Sum(metrics, "flowgate.runs.finished", "flowgate.run.status", "succeeded"));
        Assert.Equal(3, HistogramCount(metrics, "flowgate.work.duration"));
    }

    [Fact]
    public async Task A_failing_step_marks_its_span_as_an_error_and_counts_errors_and_retries()
    {
        var spans = new List<Activity>();
        var metrics = new List<Metric>();
        using var tracing = Sdk.CreateTracerProviderBuilder().AddSource(FlowgateTelemetry.Name).AddInMemoryExporter(spans).Build();
        using var meters = Sdk.CreateMeterProviderBuilder().AddMeter(FlowgateTelemetry.Name).AddInMemoryExporter(metrics).Build();
        var failures = 1;
        await using var engine = new Engine(services => services.AddSingleton<IBlobStore>(sp =>
            new FailingReads(new FolderBlobStore(sp.GetRequiredService<IOptions<FlowgateOptions>>()), () => Interlocked.Decrement(ref failures) >= 0)));
        var (tenant, pipeline) = await engine.CreatePipelineAsync(TestPipelines.ThreeSteps);

        // The large input lives in the blob store, whose first read fails.
        var run = await engine.StartAsync(tenant, pipeline, TestPipelines.LargeRecords);
        await engine.DrainAsync();
        tracing!.ForceFlush();
        meters!.ForceFlush();

        Assert.Equal(RunStatus.Succeeded, engine.Get<RunStore>().Find(tenant, run.Id)!.Status);
        var failed = Assert.Single(spans, s => (string?)s.GetTagItem("flowgate.run.id") == run.Id && s.Status == ActivityStatusCode.Error);
        Assert.Equal("step a", failed.DisplayName);
        Assert.Equal(1, Sum(metrics, "flowgate.work.retries", "flowgate.work.kind", "step"));
        Assert.Equal(1, Sum(metrics, "flowgate.work.errors", "flowgate.final", false));
    }

    private static long Sum(List<Metric> metrics, string name, string tag, object value)
    {
        long total = 0;
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                foreach (var pair in point.Tags)
                {
                    if (pair.Key == tag && Equals(pair.Value, value))
                    {
                        total += point.GetSumLong();
                    }
                }
            }
        }
        return total;
    }

    private static long HistogramCount(List<Metric> metrics, string name)
    {
        long total = 0;
        foreach (var metric in metrics.Where(m => m.Name == name))
        {
            foreach (ref readonly var point in metric.GetMetricPoints())
            {
                total += point.GetHistogramCount();
            }
        }
        return total;
    }

    private sealed class FailingReads(IBlobStore inner, Func<bool> fail) : IBlobStore
    {
        public Task<Stream> OpenWriteAsync(string key, CancellationToken cancellationToken) => inner.OpenWriteAsync(key, cancellationToken);

        public Task<Stream> OpenReadAsync(string key, CancellationToken cancellationToken) =>
            fail() ? throw new IOException("transient read failure") : inner.OpenReadAsync(key, cancellationToken);

        public Task DeleteAsync(string key, CancellationToken cancellationToken) => inner.DeleteAsync(key, cancellationToken);
    }
}
