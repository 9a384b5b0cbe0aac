namespace Saas.Bench.Csv;

/// <summary>One upload of the orders CSV through map → filter → JSONL, timed from upload start to run succeeded.</summary>
public sealed record CsvThroughputResult(
    OrdersCsvFile Input, long RecordsOut, long Chunks, TimeSpan Upload, TimeSpan Processing,
    double PeakRssMegabytes, double UploadPeakRssMegabytes, double? HighWaterMarkMegabytes, long OutputBytes, IReadOnlyList<string> Problems)
{
    public TimeSpan Wall => Upload + Processing;

    public double RecordsPerSecond => Input.Rows / Wall.TotalSeconds;

    /// <summary>The larger of the sampled VmRSS peak and the kernel's VmHWM.</summary>
    public double PeakMemoryMegabytes => Math.Max(PeakRssMegabytes, HighWaterMarkMegabytes ?? 0);
}
