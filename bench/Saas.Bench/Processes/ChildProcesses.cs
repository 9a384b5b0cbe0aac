using System.Diagnostics;

namespace Saas.Bench.Processes;

public sealed record CommandResult(int ExitCode, string Output, string Error);

/// <summary>
/// Every process the benchmark starts goes through here, so that all of them are killed at the end,
/// on failure, on Ctrl+C and on SIGTERM alike.
/// </summary>
public sealed class ChildProcesses : IDisposable
{
    private readonly string _logs;
    private readonly List<Process> _started = [];
    private readonly Lock _lock = new();

    public ChildProcesses(string logs)
    {
        _logs = logs;
        Directory.CreateDirectory(logs);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
        Console.CancelKeyPress += (_, _) => KillAll();
    }

    /// <summary>Starts a long-running process whose output goes to <c>.work/logs/{name}.log</c>.</summary>
    public Process StartService(string name, string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment = null)
    {
        var log = new StreamWriter(LogPath(name), append: false) { AutoFlush = true };
        var process = Create(file, arguments, workingDirectory, environment);
        process.OutputDataReceived += (_, line) => Append(log, line.Data);
        process.ErrorDataReceived += (_, line) => Append(log, line.Data);
        process.Exited += (_, _) => { lock (log) { log.Dispose(); } };
        Track(process);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return process;
    }

    /// <summary>Runs a command to completion (killed after <paramref name="timeout"/>) and returns what it printed.</summary>
    public async Task<CommandResult> RunAsync(string file, IEnumerable<string> arguments, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null, string? workingDirectory = null, CancellationToken cancellationToken = default)
    {
        using var process = Create(file, arguments, workingDirectory ?? Environment.CurrentDirectory, environment);
        Track(process);
        var output = process.StandardOutput.ReadToEndAsync(cancellationToken);
        var error = process.StandardError.ReadToEndAsync(cancellationToken);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        try
        {
            await process.WaitForExitAsync(limit.Token);
        }
        catch (OperationCanceledException)
        {
            Kill(process);
            throw new TimeoutException($"{file} {string.Join(' ', arguments)} did not finish within {timeout.TotalSeconds:0} s");
        }
        finally
        {
            Forget(process);
        }
        return new CommandResult(process.ExitCode, await output, await error);
    }

    public string LogPath(string name) => Path.Combine(_logs, $"{name}.log");

    public void Stop(Process process)
    {
        Kill(process);
        Forget(process);
    }

    public void Dispose() => KillAll();

    private static Process Create(string file, IEnumerable<string> arguments, string workingDirectory, IReadOnlyDictionary<string, string>? environment)
    {
        var start = new ProcessStartInfo(file)
        {
            WorkingDirectory = workingDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        foreach (var argument in arguments)
        {
            start.ArgumentList.Add(argument);
        }
        foreach (var (key, value) in environment ?? new Dictionary<string, string>())
        {
            start.Environment[key] = value;
        }
        return new Process { StartInfo = start, EnableRaisingEvents = true };
    }

    private void Track(Process process)
    {
        lock (_lock)
        {
            process.Start();
            process.StandardInput.Close();
            _started.Add(process);
        }
    }

    private void Forget(Process process)
    {
        lock (_lock)
        {
            _started.Remove(process);
        }
    }

    private void KillAll()
    {
        lock (_lock)
        {
            foreach (var process in _started)
            {
                Kill(process);
            }
            _started.Clear();
        }
    }

    private static void Kill(Process process)
    {
        try
        {
            if (!process.HasExited)
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit(5_000);
            }
        }
        catch (InvalidOperationException)
        {
        }
    }

    private static void Append(StreamWriter log, string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (log)
        {
            if (log.BaseStream.CanWrite)
            {
                log.WriteLine(line);
            }
        }
    }
}
