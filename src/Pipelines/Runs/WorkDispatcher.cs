using System.Threading.Channels;

namespace Saas.Pipelines.Runs;

/// <summary>Hands work leased to this node to its workers without a round trip through the database.</summary>
public sealed class WorkDispatcher
{
    private readonly Channel<WorkItem> _items = Channel.CreateUnbounded<WorkItem>(new UnboundedChannelOptions { SingleReader = false, SingleWriter = false });

    public ChannelReader<WorkItem> Items => _items.Reader;

    public int Pending => _items.Reader.Count;

    public void Dispatch(WorkItem item) => _items.Writer.TryWrite(item);

    public void Dispatch(IEnumerable<WorkItem> items)
    {
        foreach (var item in items)
        {
            _items.Writer.TryWrite(item);
        }
    }
}
