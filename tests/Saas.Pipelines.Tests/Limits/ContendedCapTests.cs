using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Tests.Limits;

public sealed class ContendedCapTests
{
    [Fact]
    public async Task Work_held_back_while_another_tenant_had_work_runs_once_that_tenant_is_quiet_without_waiting_for_a_step_to_end()
    {
        var time = new FakeTimeProvider();
        await using var engine = new Engine(services => services.AddSingleton<TimeProvider>(time), settings: new Dictionary<string, string?>
        {
            ["Flowgate:Limits:MaxConcurrentSteps"] = "3",
            ["Flowgate:Limits:ContendedConcurrentSteps"] = "1",
        });
        var dispatcher = engine.Get<WorkDispatcher>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        var cancel = timeout.Token;

        dispatcher.Dispatch(Item("tn_brief", 1));
        dispatcher.Finished((await dispatcher.TakeAsync(cancel)).Item.TenantId);
        for (var i = 0; i < 4; i++)
        {
            dispatcher.Dispatch(Item("tn_long", 10 + i));
        }
        var first = await dispatcher.TakeAsync(cancel);
        var second = dispatcher.TakeAsync(cancel).AsTask();
        var third = dispatcher.TakeAsync(cancel).AsTask();
        var fourth = dispatcher.TakeAsync(cancel).AsTask();

        // The other tenant had work within the contention window: one item of this tenant runs at a time.
        await Task.Delay(200, cancel);
        Assert.Equal(10, first.Item.Id);
        Assert.False(second.IsCompleted || third.IsCompleted || fourth.IsCompleted);

        // The window passes with the first item still running: the tenant goes up to its own cap of three, no further.
        time.Advance(TimeSpan.FromSeconds(1.1));
        var taken = await Task.WhenAll(second, third).WaitAsync(cancel);
        Assert.Equal([11, 12], taken.Select(w => w.Item.Id).Order());
        await Task.Delay(200, cancel);
        Assert.False(fourth.IsCompleted);

        dispatcher.Finished(first.Item.TenantId);
        Assert.Equal(13, (await fourth.WaitAsync(cancel)).Item.Id);
    }

    private static WorkItem Item(string tenantId, long id) => new(id, tenantId, $"run_{id}", WorkKinds.Step, 0, 0, 1);
}
