using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Saas.Bench.Noisy;

/// <summary>
/// How fast the machine's CPU is running, seen from inside: every 10 ms a dedicated thread times one fixed piece of work by
/// its own CPU time, not by the clock, so waiting for a core does not count. Where the same work takes at least twice its
/// usual CPU time, the core itself was slow (another virtual machine on it, say) and every thread on it with it; B's runs
/// then are slow for a reason no tenant caused (decision 027, session 10).
/// </summary>
public sealed class CpuSpeedProbe : IDisposable
{
    private const int ThreadCpuClock = 3; // CLOCK_THREAD_CPUTIME_ID

    private readonly List<(long At, double CpuMicroseconds)> _samples = [];
    private readonly Thread _thread;
    private volatile bool _stopping;

    public CpuSpeedProbe()
    {
        _thread = new Thread(Measure) { IsBackground = true, Name = "cpu speed probe" };
        _thread.Start();
    }

    /// <summary>Each measurement: when it began (a <see cref="Stopwatch"/> timestamp) and the CPU time the work took.</summary>
    public IReadOnlyList<(long At, double CpuMicroseconds)> Samples
    {
        get
        {
            lock (_samples)
            {
                return [.. _samples];
            }
        }
    }

    public void Dispose()
    {
        _stopping = true;
        _thread.Join();
    }

    private void Measure()
    {
        var sink = 0UL;
        while (!_stopping)
        {
            var at = Stopwatch.GetTimestamp();
            var before = ThreadCpuNanoseconds();
            sink += Work(sink);
            var took = (ThreadCpuNanoseconds() - before) / 1_000.0;
            lock (_samples)
            {
                _samples.Add((at, took));
            }
            Thread.Sleep(10);
        }
        GC.KeepAlive(sink);
    }

    /// <summary>~230 µs of integer work that stays in registers: its CPU time only changes with the core's speed.</summary>
    private static ulong Work(ulong seed)
    {
        var x = seed | 1;
        for (var i = 0; i < 100_000; i++)
        {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        return x;
    }

    private static long ThreadCpuNanoseconds() =>
        ClockGetTime(ThreadCpuClock, out var time) == 0 ? time.Seconds * 1_000_000_000 + time.Nanoseconds : 0;

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [DllImport("libc", EntryPoint = "clock_gettime")]
    private static extern int ClockGetTime(int clock, out TimeSpec time);
}
