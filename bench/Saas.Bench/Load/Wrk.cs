using System.Text.Json;
using Saas.Bench.Processes;

namespace Saas.Bench.Load;

/// <summary>The HTTP load generator, run as a separate process with <c>post.lua</c>; installed with apt if missing.</summary>
public sealed class Wrk(ChildProcesses children, BenchPaths paths, BenchOptions options)
{
    private const string Executable = "wrk";
    private const string ResultPrefix = "BENCH_RESULT ";

    public static async Task EnsureInstalledAsync(ChildProcesses children)
    {
        if (await IsInstalledAsync(children))
        {
            return;
        }
        Console.WriteLine("Installing wrk (apt-get install -y wrk)...");
        var apt = new Dictionary<string, string> { ["DEBIAN_FRONTEND"] = "noninteractive" };
        var install = await children.RunAsync("apt-get", ["install", "-y", "-q", Executable], TimeSpan.FromMinutes(5), apt);
        if (install.ExitCode != 0)
        {
            await children.RunAsync("apt-get", ["update", "-q"], TimeSpan.FromMinutes(5), apt);
            install = await children.RunAsync("apt-get", ["install", "-y", "-q", Executable], TimeSpan.FromMinutes(5), apt);
        }
        if (install.ExitCode != 0 || !await IsInstalledAsync(children))
        {
            throw new InvalidOperationException($"could not install wrk: {install.Error}");
        }
    }

    private const int MaxWarmUpRounds = 8;

    /// <summary>
    /// The warm-up: rounds of <see cref="BenchOptions.Warmup"/> at <see cref="BenchOptions.Connections"/> until the rate
    /// stops rising: two rounds in a row within 5 % of the best round so far (at most <see cref="MaxWarmUpRounds"/>). On two
    /// busy cores the JIT's optimized compiles of a .NET server take 30-50 s of load to land, and a measurement before that
    /// measures the JIT: the gateway went 3,900 → 8,000 → 8,200 → 9,700 → 10,500 requests/s in 10 s rounds, so one flat
    /// round is not yet the plateau. Returns the rounds together: only their answers count (the gateway's metering check).
    /// </summary>
    public async Task<WrkResult> WarmUpAsync(LoadTarget target, CancellationToken cancellationToken)
    {
        WrkResult? rounds = null;
        var best = 0.0;
        var flat = 0;
        for (var round = 1; round <= MaxWarmUpRounds && flat < 2; round++)
        {
            var result = await LoadAsync(target, options.Connections, options.Warmup, cancellationToken);
            Console.WriteLine($"  warm-up round {round}: {result.RequestsPerSecond:N0} requests/s");
            rounds = rounds is null ? result : rounds.Plus(result);
            flat = round > 1 && result.RequestsPerSecond <= best * 1.05 ? flat + 1 : 0;
            best = Math.Max(best, result.RequestsPerSecond);
        }
        return rounds!;
    }

    /// <summary>A measurement for <see cref="BenchOptions.Duration"/>; wrk needs no more threads than connections.</summary>
    public Task<WrkResult> LoadAsync(LoadTarget target, int connections, CancellationToken cancellationToken) =>
        LoadAsync(target, connections, options.Duration, cancellationToken);

    public int ThreadsFor(int connections) => Math.Min(options.Threads, connections);

    private async Task<WrkResult> LoadAsync(LoadTarget target, int connections, TimeSpan duration, CancellationToken cancellationToken)
    {
        string[] arguments =
        [
            "-t", ThreadsFor(connections).ToString(), "-c", connections.ToString(), "-d", $"{duration.TotalSeconds:0}s",
            "--timeout", "10s", "--latency", "-s", paths.WrkScript, target.Url.ToString(),
        ];
        var headers = string.Join('\n', target.Headers.Select(h => $"{h.Key}: {h.Value}"));
        var environment = new Dictionary<string, string> { ["BENCH_BODY"] = target.Body, ["BENCH_HEADERS"] = headers };
        var run = await children.RunAsync(Executable, arguments, duration + TimeSpan.FromSeconds(30), environment, cancellationToken: cancellationToken);
        var line = run.Output.Split('\n').FirstOrDefault(l => l.StartsWith(ResultPrefix, StringComparison.Ordinal));
        if (run.ExitCode != 0 || line is null)
        {
            throw new InvalidOperationException($"wrk failed (exit {run.ExitCode}): {run.Error}{run.Output}");
        }
        var done = JsonSerializer.Deserialize<WrkDoneLine>(line[ResultPrefix.Length..], JsonSerializerOptions.Web)!;
        var report = string.Join('\n', run.Output.Split('\n').Where(l => !l.StartsWith(ResultPrefix, StringComparison.Ordinal))).TrimEnd();
        return done.ToResult(report);
    }

    private static async Task<bool> IsInstalledAsync(ChildProcesses children)
    {
        try
        {
            var version = await children.RunAsync(Executable, ["--version"], TimeSpan.FromSeconds(10));
            return (version.Output + version.Error).Contains("wrk", StringComparison.Ordinal);
        }
        catch (System.ComponentModel.Win32Exception)
        {
            return false;
        }
    }
}
