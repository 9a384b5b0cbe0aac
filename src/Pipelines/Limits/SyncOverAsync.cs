namespace Saas.Pipelines.Limits;

/// <summary>Blocks on asynchronous work for a synchronous API (a stream's <c>Write</c>), without deadlocking.</summary>
public static class SyncOverAsync
{
    /// <summary>
    /// Runs the work on the thread pool and waits. Run in place, its continuations would be queued to the caller's task
    /// scheduler: on <see cref="LowPriorityScheduler"/>, whose few threads may all be blocked like this one, they would
    /// never run.
    /// </summary>
    public static void Run(Func<Task> work) => Task.Run(work).GetAwaiter().GetResult();
}
