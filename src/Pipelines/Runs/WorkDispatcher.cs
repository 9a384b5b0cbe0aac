using System.Threading.Channels;

namespace Saas.Pipelines.Runs;

/// <summary>Work leased to this node; <see cref="Run"/> is the run as just created, when known, to spare a read.</summary>
public sealed record DispatchedWork(WorkItem Item, RunRow? Run);

/// <summary>Hands work leased to this node to its workers without a round trip through the database.</summary>
public sealed class WorkDispatcher
{
    private readonly Channel<DispatchedWork> _items = Channel.CreateUnbounded<DispatchedWork>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    public ChannelReader<DispatchedWork> Items => _items.Reader;

    public int Pending => _items.Reader.Count;

    public void Dispatch(WorkItem item, RunRow? run = null) => _items.Writer.TryWrite(new DispatchedWork(item, run));

    public void Dispatch(IEnumerable<WorkItem> items)
    {
        foreach (var item in items)
        {
            Dispatch(item);
        }
    }
}
