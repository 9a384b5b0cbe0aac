using System.Collections.Concurrent;

namespace Saas.Pipelines.Runs;

/// <summary>Lets callers in this process await a run finishing (<c>?wait=true</c>) instead of polling.</summary>
public sealed class RunSignals
{
    private readonly ConcurrentDictionary<string, TaskCompletionSource> _waiting = new(StringComparer.Ordinal);

    public Task WhenFinished(string runId) =>
        _waiting.GetOrAdd(runId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously)).Task;

    /// <summary>The runs someone in this process is waiting for.</summary>
    public ICollection<string> Waiting => _waiting.Keys;

    public void Forget(string runId) => _waiting.TryRemove(runId, out _);

    public void Finished(string runId)
    {
        if (_waiting.TryRemove(runId, out var waiter))
        {
            waiter.TrySetResult();
        }
    }
}
