using System.Collections.Concurrent;
using System.Runtime.InteropServices;

namespace Saas.Pipelines.Limits;

/// <summary>
/// Threads the operating system runs after everyone else's: a backlog's steps take the cores only when other tenants'
/// requests and steps leave them idle, and give them back at once when those wake (decision 027, session 8). Nice 19 on
/// Linux, <see cref="ThreadPriority.Lowest"/> elsewhere.
/// </summary>
public static class LowPriority
{
    /// <summary>The nice value (Linux) of low-priority threads: the lowest there is.</summary>
    public const int Nice = 19;

    /// <summary>Lowers the calling thread's priority, as far as it goes (any process may lower its own threads').</summary>
    public static void LowerCurrentThread()
    {
        if (OperatingSystem.IsLinux())
        {
            setpriority(PrioProcess, gettid(), Nice);
            return;
        }
        Thread.CurrentThread.Priority = ThreadPriority.Lowest;
    }

    /// <summary>The calling thread's nice value (Linux only; 0 elsewhere).</summary>
    public static int CurrentThreadNice() => OperatingSystem.IsLinux() ? getpriority(PrioProcess, gettid()) : 0;

    private const int PrioProcess = 0;

    // With a thread id, PRIO_PROCESS addresses that one thread on Linux.
    [DllImport("libc")]
    private static extern int setpriority(int which, int who, int priority);

    [DllImport("libc")]
    private static extern int getpriority(int which, int who);

    [DllImport("libc")]
    private static extern int gettid();
}

/// <summary>
/// Runs tasks, and the continuations of what they await, on <see cref="Environment.ProcessorCount"/> low-priority
/// threads (<see cref="LowPriority"/>).
/// </summary>
public sealed class LowPriorityScheduler : TaskScheduler
{
    public static LowPriorityScheduler Shared { get; } = new(Environment.ProcessorCount);

    private readonly BlockingCollection<Task> _tasks = [];

    private LowPriorityScheduler(int threads)
    {
        MaximumConcurrencyLevel = threads;
        for (var i = 0; i < threads; i++)
        {
            new Thread(() =>
            {
                LowPriority.LowerCurrentThread();
                foreach (var task in _tasks.GetConsumingEnumerable())
                {
                    TryExecuteTask(task);
                }
            })
            { IsBackground = true, Name = "low-priority work" }.Start();
        }
    }

    public override int MaximumConcurrencyLevel { get; }

    /// <summary>
    /// Runs <paramref name="work"/> here; what it awaits continues here too. The caller continues on the thread pool,
    /// not on the low-priority thread that finished the work.
    /// </summary>
    public async Task RunAsync(Func<Task> work, CancellationToken cancellationToken) =>
        await Task.Factory.StartNew(work, cancellationToken, TaskCreationOptions.DenyChildAttach, this).Unwrap()
            .ConfigureAwait(ConfigureAwaitOptions.ForceYielding);

    protected override void QueueTask(Task task) => _tasks.Add(task);

    // Inlining would run a low-priority task on a normal thread that waits for it, or the reverse.
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks() => _tasks.ToArray();
}
