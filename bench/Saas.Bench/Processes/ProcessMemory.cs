namespace Saas.Bench.Processes;

/// <summary>Samples a process's resident memory (VmRSS) every 100 ms and keeps the peak; VmHWM is the kernel's own peak.</summary>
public sealed class ProcessMemory : IAsyncDisposable
{
    private readonly int _pid;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _sampling;
    private long _peakKilobytes;

    private ProcessMemory(int pid)
    {
        _pid = pid;
        _sampling = Task.Run(SampleAsync);
    }

    public static ProcessMemory StartSampling(int pid) => new(pid);

    /// <summary>Highest VmRSS seen so far, in MB.</summary>
    public double PeakRssMegabytes => Interlocked.Read(ref _peakKilobytes) / 1024.0;

    public static double? HighWaterMarkMegabytes(int pid) => ReadKilobytes(pid, "VmHWM:") / 1024.0;

    public static double? RssMegabytes(int pid) => ReadKilobytes(pid, "VmRSS:") / 1024.0;

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _sampling;
        _stop.Dispose();
    }

    private async Task SampleAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(100));
        do
        {
            if (ReadKilobytes(_pid, "VmRSS:") is { } rss && rss > Interlocked.Read(ref _peakKilobytes))
            {
                Interlocked.Exchange(ref _peakKilobytes, rss);
            }
        }
        while (await Tick(timer));
    }

    private async Task<bool> Tick(PeriodicTimer timer)
    {
        try
        {
            return await timer.WaitForNextTickAsync(_stop.Token);
        }
        catch (OperationCanceledException)
        {
            return false;
        }
    }

    private static long? ReadKilobytes(int pid, string field)
    {
        try
        {
            var line = File.ReadLines($"/proc/{pid}/status").FirstOrDefault(l => l.StartsWith(field, StringComparison.Ordinal));
            return line is null ? null : long.Parse(line[field.Length..].Trim().Split(' ')[0]);
        }
        catch (IOException)
        {
            return null;
        }
    }
}
