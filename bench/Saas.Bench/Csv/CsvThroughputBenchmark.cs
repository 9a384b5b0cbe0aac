using System.Diagnostics;
using Saas.Bench.Flowgate;
using Saas.Bench.Processes;

namespace Saas.Bench.Csv;

/// <summary>
/// Part 2: upload a large CSV (streamed) to a CSV → map → filter → JSONL pipeline, poll the run to the end,
/// and watch the host's memory meanwhile.
/// </summary>
public static class CsvThroughputBenchmark
{
    private static readonly TimeSpan PollInterval = TimeSpan.FromMilliseconds(200);

    public static async Task<CsvThroughputResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine("\n== 2. Flowgate CSV throughput (upload → map → filter → JSONL) ==");
        var input = await OrdersCsvGenerator.EnsureAsync(context.Paths.Work, context.Options.CsvMegabytes, cancellationToken);
        Console.WriteLine($"Input: {input.Path}, {input.Bytes / 1048576.0:N0} MB, {input.Rows:N0} rows; filter total > {input.Threshold} keeps {input.RowsAboveThreshold:N0}.");
        var server = await FlowgateServer.StartAsync(context.Children, context.Paths, "csv", context.Options.HostSettings);
        try
        {
            var api = server.Api;
            var pipelineId = await api.CreatePipelineAsync(PipelineDefinitions.CsvOrders(input.Threshold, context.Options.ChunkSize), cancellationToken);
            Console.WriteLine($"Host memory before the upload: {ProcessMemory.RssMegabytes(server.Pid):N0} MB RSS. Uploading (chunk size {context.Options.ChunkSize:N0})...");

            await using var memory = ProcessMemory.StartSampling(server.Pid);
            var others = OtherProcessesLoad.Start();
            var cpuBefore = CpuSnapshot.Take(server.Pid);
            var clock = Stopwatch.StartNew();
            var runId = await api.UploadAsync(pipelineId, input.Path, cancellationToken);
            var upload = clock.Elapsed;
            var uploadPeak = memory.PeakRssMegabytes;
            Console.WriteLine($"Uploaded in {upload.TotalSeconds:0.0} s ({input.Bytes / 1048576.0 / upload.TotalSeconds:N0} MB/s), run {runId}; processing...");
            var run = await PollUntilFinishedAsync(api, runId, cancellationToken);
            var processing = clock.Elapsed - upload;
            var hwm = ProcessMemory.HighWaterMarkMegabytes(server.Pid);
            var cpu = CpuSnapshot.Take(server.Pid).Since(cpuBefore);
            context.NoteOtherProcesses("csv", others);

            if (run.Status != "succeeded")
            {
                throw new InvalidOperationException($"run {runId} {run.Status} after {clock.Elapsed.TotalSeconds:0.0} s: {run.Error}");
            }
            var output = await api.MeasureOutputAsync(runId, cancellationToken);
            var result = new CsvThroughputResult(input, run.RecordsOut ?? 0, run.Chunks?.Total ?? 0, upload, processing,
                memory.PeakRssMegabytes, uploadPeak, hwm, output.Bytes, Verify(input, run, output));
            Report(result, run, output);
            Console.WriteLine($"From upload start to run end: {cpu.Describe("host")}");
            return result;
        }
        finally
        {
            server.Stop();
        }
    }

    private static async Task<RunView> PollUntilFinishedAsync(FlowgateApi api, string runId, CancellationToken cancellationToken)
    {
        using var timer = new PeriodicTimer(PollInterval);
        var lastReport = Stopwatch.StartNew();
        while (true)
        {
            var run = await api.GetRunAsync(runId, cancellationToken);
            if (run.IsFinished)
            {
                return run;
            }
            if (lastReport.Elapsed > TimeSpan.FromSeconds(10))
            {
                Console.WriteLine($"  ... {run.Status}, chunks {run.Chunks?.Done}/{run.Chunks?.Total?.ToString() ?? "?"}");
                lastReport.Restart();
            }
            await timer.WaitForNextTickAsync(cancellationToken);
        }
    }

    private static void Report(CsvThroughputResult result, RunView run, OutputSize output)
    {
        Console.WriteLine($"Run {run.Id} {run.Status}: records in {run.RecordsIn:N0}, out {run.RecordsOut:N0}, chunks {result.Chunks:N0}.");
        Console.WriteLine($"Wall {result.Wall.TotalSeconds:0.0} s = upload {result.Upload.TotalSeconds:0.0} s + processing {result.Processing.TotalSeconds:0.0} s " +
            $"→ {result.RecordsPerSecond:N0} records/s (processing alone {result.Input.Rows / result.Processing.TotalSeconds:N0} records/s).");
        Console.WriteLine($"Host memory: peak VmRSS sampled {result.PeakRssMegabytes:N0} MB (during upload {result.UploadPeakRssMegabytes:N0} MB), VmHWM {result.HighWaterMarkMegabytes:N0} MB.");
        Console.WriteLine($"Output: {output.Bytes:N0} bytes ({output.Bytes / 1048576.0:N0} MB), {output.Lines:N0} lines.");
        Console.WriteLine(result.Problems.Count == 0
            ? "Verified: recordsIn = rows in the file, recordsOut = rows above the threshold = output lines."
            : $"VERIFICATION FAILED: {string.Join("; ", result.Problems)}");
    }

    private static List<string> Verify(OrdersCsvFile input, RunView run, OutputSize output)
    {
        var problems = new List<string>();
        if (run.RecordsIn != input.Rows)
        {
            problems.Add($"recordsIn {run.RecordsIn} ≠ {input.Rows} rows in the file");
        }
        if (run.RecordsOut != input.RowsAboveThreshold)
        {
            problems.Add($"recordsOut {run.RecordsOut} ≠ {input.RowsAboveThreshold} rows with total > {input.Threshold}");
        }
        if (output.Lines != run.RecordsOut)
        {
            problems.Add($"the output has {output.Lines} lines but recordsOut is {run.RecordsOut}");
        }
        return problems;
    }
}
