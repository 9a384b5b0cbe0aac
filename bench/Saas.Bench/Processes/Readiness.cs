using System.Diagnostics;

namespace Saas.Bench.Processes;

public static class Readiness
{
    /// <summary>Calls <paramref name="ready"/> until it says yes, failing early if the server process has exited.</summary>
    public static async Task WaitUntilAsync(Func<Task<bool>> ready, Process server, string what, string log, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            if (server.HasExited)
            {
                throw new InvalidOperationException($"{what} exited with code {server.ExitCode} before it was ready; see {log}:\n{Tail(log)}");
            }
            try
            {
                if (await ready())
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"{what} was not ready within {timeout.TotalSeconds:0} s; see {log}:\n{Tail(log)}");
    }

    private static string Tail(string log) =>
        File.Exists(log) ? string.Join('\n', File.ReadLines(log).TakeLast(20)) : "(no log)";
}
