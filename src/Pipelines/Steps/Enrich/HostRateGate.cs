using System.Collections.Concurrent;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>
/// Spaces the requests an HTTP step sends to one host evenly at its configured rate, across all chunks
/// of its runs on this node (the key is tenant, pipeline, step and host).
/// </summary>
public sealed class HostRateGates(TimeProvider time)
{
    private readonly ConcurrentDictionary<(string Tenant, string? Pipeline, string Step, string Host), Gate> _gates = new();

    public Task WaitAsync(StepContext context, string host, double requestsPerSecond, CancellationToken cancellationToken) =>
        _gates.GetOrAdd((context.TenantId, context.PipelineId, context.StepId, host), _ => new Gate()).WaitAsync(time, TimeSpan.FromSeconds(1 / requestsPerSecond), cancellationToken);

    private sealed class Gate
    {
        private DateTimeOffset _next = DateTimeOffset.MinValue;

        public Task WaitAsync(TimeProvider time, TimeSpan interval, CancellationToken cancellationToken)
        {
            TimeSpan wait;
            lock (this)
            {
                var now = time.GetUtcNow();
                var slot = _next > now ? _next : now;
                _next = slot + interval;
                wait = slot - now;
            }
            return wait > TimeSpan.Zero ? Task.Delay(wait, time, cancellationToken) : Task.CompletedTask;
        }
    }
}
