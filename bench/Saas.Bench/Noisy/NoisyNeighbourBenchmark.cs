using System.Diagnostics;
using System.Globalization;
using System.Text;
using Saas.Bench.Flowgate;
using Saas.Bench.Processes;

namespace Saas.Bench.Noisy;

/// <summary>
/// Tenant B's trigger-to-done latency, alone and while tenant A floods its queue, over several rounds: the p99s are
/// of all rounds' runs together, so a passing moment of the machine weighs on both sides alike.
/// </summary>
public sealed record NoisyNeighbourResult(
    IReadOnlyList<NoisyRound> Rounds, LatencySummary Alone, LatencySummary Loaded, int Flood, string LoadAverage, MachineStalls Machine)
{
    /// <summary>B's p99 under A's flood over its p99 alone; the target is at most 2.</summary>
    public double P99Ratio => Loaded.P99Over(Alone);
}

/// <summary>One round: B alone, then B while A posts its flood; how long A's posts took and how many of its runs were done when B's load ended.</summary>
public sealed record NoisyRound(LatencySummary Alone, LatencySummary Loaded, TimeSpan FloodPosted, int FloodRefused, long FloodDoneDuringLoad)
{
    public double P99Ratio => Loaded.P99Over(Alone);
}

/// <summary>
/// What <see cref="CpuSpeedProbe"/> saw: its usual CPU time for the fixed work (the median during B alone), how many of
/// its measurements took at least twice that in each phase, and B's p99 over the runs more than 10 ms away from any of
/// them. Under the flood our own threads share the cores too, so there the count is not the machine's alone.
/// </summary>
public sealed record MachineStalls(double UsualMicroseconds, int SlowAlone, int SlowLoaded, LatencySummary CleanAlone, LatencySummary CleanLoaded);

public sealed record LatencySummary(int Runs, int Failed, double P50Ms, double P99Ms, double MaxMs)
{
    public double P99Over(LatencySummary baseline) => P99Ms / baseline.P99Ms;

    public static LatencySummary Of(IReadOnlyList<double> milliseconds, int failed)
    {
        var sorted = milliseconds.Order().ToArray();
        double At(double q) => sorted.Length == 0 ? double.NaN : sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)];
        return new LatencySummary(sorted.Length, failed, At(0.50), At(0.99), sorted.Length == 0 ? double.NaN : sorted[^1]);
    }

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"{Runs} runs, p50 {P50Ms:0.0} ms, p99 {P99Ms:0.0} ms, max {MaxMs:0.0} ms, failed {Failed}");
}

/// <summary>
/// The noisy-neighbour check of decision 024. One Release host with the product's default limits and two
/// tenants, each with the same queue-triggered one-step pipeline. Tenant B's normal load is one run every
/// 20 ms (<c>POST /runs?wait=true</c>, sent on schedule whether or not earlier ones have answered, so slow
/// answers cannot thin out the load); its latency is measured for the duration alone, then again for the
/// duration while tenant A posts <c>--flood</c> queue messages (in posts of 1,000) as fast as its limits let it; then
/// A's backlog drains and the next of <c>--rounds</c> begins. One 15 s window's p99 is its 8th slowest run, which this
/// machine alone moves by a factor of two from minute to minute; alternating rounds share that drift between both sides.
/// </summary>
public static class NoisyNeighbourBenchmark
{
    private static readonly TimeSpan Interval = TimeSpan.FromMilliseconds(20);

    private const int PostSize = 1000;

    private const string Pipeline = """
        {"name":"events","trigger":{"type":"queue","queue":"events"},"steps":[
          {"id":"total","type":"map","fields":{"total":"record.qty * record.price"}}]}
        """;

    public static async Task<NoisyNeighbourResult> RunAsync(BenchContext context, CancellationToken cancellationToken)
    {
        Console.WriteLine("\n== Noisy neighbour: tenant B's run latency, alone and while tenant A floods its queue ==");
        var server = await FlowgateServer.StartAsync(context.Children, context.Paths, "noisy", context.Options.HostSettings, ["noisy-a", "steady-b"]);
        try
        {
            var (a, b) = (server.Tenants[0], server.Tenants[1]);
            await a.CreatePipelineAsync(Pipeline, cancellationToken);
            var pipelineB = await b.CreatePipelineAsync(Pipeline, cancellationToken);
            const string record = """{"qty":3,"price":4.5}""";

            // A's paths (posts, the pump, its steps) are warmed too: on two cores the JIT needs tens of seconds of load to
            // optimize a path, and a cold flood would measure the JIT rather than the limits.
            var warmUpFlood = Math.Max(1_000, context.Options.Flood / 10);
            Console.WriteLine($"Warming up for {context.Options.Warmup.TotalSeconds:0} s: B's load, while A posts {warmUpFlood:N0} messages...");
            var warmUpPosts = FloodAsync(a, warmUpFlood, cancellationToken);
            await LoadAsync(b, pipelineB, record, context.Options.Warmup, null, cancellationToken);
            await warmUpPosts;
            await WaitForRunsAsync(a, warmUpFlood, cancellationToken);
            using var cpu = new CpuSpeedProbe();
            var rounds = new List<NoisyRound>();
            var (allAlone, allLoaded) = (new List<BRun>(), new List<BRun>());
            var floodsPosted = (long)warmUpFlood;
            for (var round = 1; round <= context.Options.Rounds; round++)
            {
                Console.WriteLine($"Round {round} of {context.Options.Rounds}: B alone for {context.Options.Duration.TotalSeconds:0} s, one run every {Interval.TotalMilliseconds:0} ms...");
                var alone = await LoadAsync(b, pipelineB, record, context.Options.Duration, Timeline(context, "alone", round), cancellationToken);
                Console.WriteLine($"  B alone: {Summary(alone)}");

                Console.WriteLine($"  B again while A posts {context.Options.Flood:N0} queue messages...");
                var flood = FloodAsync(a, context.Options.Flood, cancellationToken);
                var loaded = await LoadAsync(b, pipelineB, record, context.Options.Duration, Timeline(context, "flood", round), cancellationToken);
                var (posted, refused) = await flood;
                var floodDone = await a.CountRunsAsync("succeeded", cancellationToken) - floodsPosted;
                floodsPosted += context.Options.Flood;
                var finished = new NoisyRound(Summary(alone), Summary(loaded), posted, refused, floodDone);
                Console.WriteLine($"  B under A's flood: {finished.Loaded}");
                Console.WriteLine($"  A posted {context.Options.Flood:N0} messages in {posted.TotalSeconds:0.0} s ({refused:N0} posts refused with 429 by its new-work rate, then retried); " +
                    $"{floodDone:N0} of its runs had succeeded when B's load ended");
                rounds.Add(finished);
                allAlone.AddRange(alone);
                allLoaded.AddRange(loaded);
                if (round < context.Options.Rounds)
                {
                    Console.WriteLine("  Waiting for A's backlog to drain...");
                    await WaitForRunsAsync(a, floodsPosted, cancellationToken);
                }
            }
            var loadAverage = File.ReadAllText("/proc/loadavg").Trim();
            var result = new NoisyNeighbourResult(rounds, Summary(allAlone), Summary(allLoaded), context.Options.Flood, loadAverage, Stalls(cpu.Samples, allAlone, allLoaded));
            Print(result);
            return result;
        }
        finally
        {
            server.Stop();
        }
    }

    public static void Print(NoisyNeighbourResult result)
    {
        Console.WriteLine("\n== Noisy neighbour summary ==");
        foreach (var (round, number) in result.Rounds.Select((r, i) => (r, i + 1)))
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"round {number}: B's p99 alone {round.Alone.P99Ms,5:0.0} ms, under A's flood {round.Loaded.P99Ms,5:0.0} ms ({round.P99Ratio:0.00}x); A's posts took {round.FloodPosted.TotalSeconds:0.0} s, {round.FloodDoneDuringLoad:N0} of its runs done during B's load"));
        }
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tenant B p50 / p99 alone:            {result.Alone.P50Ms,8:0.0} / {result.Alone.P99Ms:0.0} ms ({result.Alone.Runs} runs in {result.Rounds.Count} rounds, {result.Alone.Failed} failed)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"tenant B p50 / p99 under A's flood:  {result.Loaded.P50Ms,8:0.0} / {result.Loaded.P99Ms:0.0} ms ({result.Loaded.Runs} runs in {result.Rounds.Count} rounds, {result.Loaded.Failed} failed)"));
        var verdict = result.P99Ratio <= 2 ? "PASS" : "MISS";
        var machine = result.Machine;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"CPU speed probe: usual {machine.UsualMicroseconds:0} µs of CPU for its work; at least twice that {machine.SlowAlone} times while B ran alone, {machine.SlowLoaded} times under the flood"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"  B's p99 away from those moments: alone {machine.CleanAlone.P99Ms:0.0} ms ({machine.CleanAlone.Runs} runs), under the flood {machine.CleanLoaded.P99Ms:0.0} ms ({machine.CleanLoaded.Runs} runs), {machine.CleanLoaded.P99Over(machine.CleanAlone):0.00}x (for reading only; the verdict is on all runs)"));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"p99 ratio (flood / alone):          {result.P99Ratio,8:0.00}x   target ≤ 2x   {verdict}"));
        Console.WriteLine($"load average at the end:            {result.LoadAverage}");
    }

    private static LatencySummary Summary(IReadOnlyList<BRun> runs) =>
        LatencySummary.Of([.. runs.Where(r => r.Succeeded).Select(r => r.LatencyMs)], runs.Count(r => !r.Succeeded));

    private static MachineStalls Stalls(IReadOnlyList<(long At, double CpuMicroseconds)> samples, IReadOnlyList<BRun> alone, IReadOnlyList<BRun> loaded)
    {
        static bool During(long at, IReadOnlyList<BRun> runs) =>
            runs.Count > 0 && runs.Any(r => at >= r.StartedAt && at <= r.StartedAt + Stopwatch.Frequency);
        var aloneSamples = samples.Where(s => During(s.At, alone)).Select(s => s.CpuMicroseconds).Order().ToArray();
        var usual = aloneSamples.Length == 0 ? double.NaN : aloneSamples[aloneSamples.Length / 2];
        var slow = samples.Where(s => s.CpuMicroseconds >= 2 * usual).Select(s => s.At).ToArray();
        var margin = Stopwatch.Frequency / 100;
        bool Clear(BRun run) => !slow.Any(at => at >= run.StartedAt - margin && at <= run.StartedAt + (long)(run.LatencyMs * Stopwatch.Frequency / 1000) + margin);
        return new MachineStalls(usual, slow.Count(at => During(at, alone)), slow.Count(at => During(at, loaded)),
            Summary([.. alone.Where(Clear)]), Summary([.. loaded.Where(Clear)]));
    }

    private static string Timeline(BenchContext context, string phase, int round) => Path.Combine(context.Paths.Logs, $"noisy-b-{phase}-{round}.csv");

    /// <summary>One of B's runs: when it was due (ms after its load began), how long it took from send to answer, and whether it succeeded.</summary>
    /// <param name="StartedAt">When it was sent, a <see cref="Stopwatch"/> timestamp.</param>
    private sealed record BRun(double SentMs, double LatencyMs, bool Succeeded, long StartedAt);

    /// <summary>
    /// Starts one run every <see cref="Interval"/> for the duration and measures each from send to answer; the
    /// timeline file gets one line per run (send time, latency in ms, success) to show when the slow ones happened.
    /// </summary>
    private static async Task<IReadOnlyList<BRun>> LoadAsync(
        FlowgateApi tenant, string pipelineId, string record, TimeSpan duration, string? timeline, CancellationToken cancellationToken)
    {
        var answers = new List<BRun>();
        var runs = new List<Task>();
        var clock = Stopwatch.StartNew();
        for (var i = 0; clock.Elapsed < duration; i++)
        {
            var due = Interval * i;
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed, cancellationToken);
            }
            runs.Add(Task.Run(async () =>
            {
                var started = Stopwatch.GetTimestamp();
                bool succeeded;
                try
                {
                    succeeded = (await tenant.RunAndWaitAsync(pipelineId, record, cancellationToken)).Status == "succeeded";
                }
                catch (InvalidOperationException)
                {
                    succeeded = false;
                }
                var answer = new BRun(due.TotalMilliseconds, Stopwatch.GetElapsedTime(started).TotalMilliseconds, succeeded, started);
                lock (answers)
                {
                    answers.Add(answer);
                }
            }, cancellationToken));
        }
        await Task.WhenAll(runs);
        if (timeline is not null)
        {
            await File.WriteAllLinesAsync(timeline,
                ["sent_ms,latency_ms,succeeded", .. answers.OrderBy(a => a.SentMs).Select(a => string.Create(CultureInfo.InvariantCulture, $"{a.SentMs:0},{a.LatencyMs:0.0},{a.Succeeded}"))],
                cancellationToken);
        }
        return answers;
    }

    /// <summary>Waits (at most two minutes) until the tenant has that many succeeded runs: its backlog is done.</summary>
    private static async Task WaitForRunsAsync(FlowgateApi tenant, long runs, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        long done;
        while ((done = await tenant.CountRunsAsync("succeeded", cancellationToken)) < runs)
        {
            if (clock.Elapsed > TimeSpan.FromMinutes(2))
            {
                throw new InvalidOperationException($"tenant A's warm-up backlog did not finish in 2 minutes ({done:N0} of {runs:N0} runs succeeded)");
            }
            await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken);
        }
    }

    /// <summary>
    /// Posts the messages in posts of <see cref="PostSize"/>, four posts at a time, as fast as the tenant's new-work rate
    /// lets them in (a refused post is retried after its <c>Retry-After</c>).
    /// </summary>
    private static async Task<(TimeSpan Elapsed, int Refused)> FloodAsync(FlowgateApi tenant, int messages, CancellationToken cancellationToken)
    {
        var clock = Stopwatch.StartNew();
        var refused = 0;
        var batches = Enumerable.Range(0, (messages + PostSize - 1) / PostSize).Select(b => Math.Min(PostSize, messages - b * PostSize));
        await Parallel.ForEachAsync(batches, new ParallelOptions { MaxDegreeOfParallelism = 4, CancellationToken = cancellationToken }, async (count, ct) =>
        {
            var body = new StringBuilder("[");
            for (var i = 0; i < count; i++)
            {
                body.Append(i == 0 ? "" : ",").Append(CultureInfo.InvariantCulture, $"{{\"qty\":{i},\"price\":1.5}}");
            }
            Interlocked.Add(ref refused, await tenant.PostQueueMessagesAsync("events", body.Append(']').ToString(), ct));
        });
        return (clock.Elapsed, refused);
    }
}
