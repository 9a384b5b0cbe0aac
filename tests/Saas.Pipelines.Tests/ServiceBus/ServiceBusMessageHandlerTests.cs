using Saas.Pipelines.Definitions;
using Saas.Pipelines.Runs;
using Saas.Pipelines.ServiceBus;

namespace Saas.Pipelines.Tests.ServiceBus;

/// <summary>Handling of Service Bus messages through the seam the processor uses: no broker needed.</summary>
public sealed class ServiceBusMessageHandlerTests
{
    private const string Listening = """
        {"name":"orders","trigger":{"type":"queue","serviceBus":{"connection":"main","queue":"orders"}},
         "steps":[{"id":"total","type":"map","fields":{"total":"record.qty * record.price"}}]}
        """;

    [Fact]
    public async Task A_valid_message_is_completed_only_after_its_run_is_committed()
    {
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(Listening);
        var delivery = new RecordingDelivery("""[{"qty":2,"price":75},{"qty":1,"price":20}]""", onComplete: () => engine.Scalar("SELECT COUNT(*) FROM runs"));

        var outcome = await engine.Get<ServiceBusMessageHandler>().HandleAsync(tenant, pipeline.Id, delivery, CancellationToken.None);

        Assert.Equal(ServiceBusOutcome.Completed, outcome);
        Assert.Equal(["complete"], delivery.Actions);
        Assert.Equal(1, delivery.RunsWhenCompleted);
        await engine.DrainAsync();
        Assert.Equal(1, engine.Scalar("SELECT COUNT(*) FROM runs WHERE status = 'succeeded' AND trigger = 'queue' AND records_out = 2"));
    }

    [Theory]
    [InlineData("{\"qty\":", "is not JSON")]
    [InlineData("[1,2]", "[0] must be an object")]
    public async Task An_undecodable_message_is_dead_lettered_with_the_reason_and_starts_nothing(string body, string reason)
    {
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(Listening);
        var delivery = new RecordingDelivery(body);

        var outcome = await engine.Get<ServiceBusMessageHandler>().HandleAsync(tenant, pipeline.Id, delivery, CancellationToken.None);

        Assert.Equal(ServiceBusOutcome.DeadLettered, outcome);
        var action = Assert.Single(delivery.Actions);
        Assert.StartsWith($"dead-letter {ServiceBusMessageHandler.UndecodableReason}: message m-1", action);
        Assert.Contains(reason, action);
        Assert.Equal(0, engine.Scalar("SELECT COUNT(*) FROM runs"));
    }

    [Fact]
    public async Task A_message_whose_run_cannot_be_committed_is_abandoned_not_completed()
    {
        await using var engine = new Engine();
        var (tenant, pipeline) = await engine.CreatePipelineAsync(Listening);
        // A real commit failure: the database refuses the run's insert.
        engine.Scalar("CREATE TRIGGER refuse_runs BEFORE INSERT ON runs BEGIN SELECT RAISE(ABORT, 'disk I/O error'); END");
        var delivery = new RecordingDelivery("""{"qty":1,"price":1}""");

        var outcome = await engine.Get<ServiceBusMessageHandler>().HandleAsync(tenant, pipeline.Id, delivery, CancellationToken.None);

        Assert.Equal(ServiceBusOutcome.Abandoned, outcome);
        Assert.Equal(["abandon"], delivery.Actions);
    }

    [Fact]
    public void A_service_bus_trigger_names_a_connection_and_a_queue_or_a_topic_subscription()
    {
        var queue = DefinitionParser.Parse(Listening).Pipeline!.Definition.Trigger.ServiceBus;
        var topic = DefinitionParser.Parse("""
            {"name":"t","trigger":{"type":"queue","serviceBus":{"connection":"main","topic":"events","subscription":"flowgate"}},
             "steps":[{"id":"a","type":"drop","fields":["x"]}]}
            """).Pipeline!.Definition.Trigger.ServiceBus;

        Assert.Equal(new ServiceBusSource("main", "orders", null, null), queue);
        Assert.Equal("events/subscriptions/flowgate", topic!.Entity);
    }

    [Theory]
    [InlineData("""{"type":"queue","queue":"orders","serviceBus":{"connection":"main","queue":"orders"}}""", "trigger.queue", "not both")]
    [InlineData("""{"type":"queue","serviceBus":{"connection":"main","topic":"events"}}""", "trigger.serviceBus.subscription", "is required with \"topic\"")]
    [InlineData("""{"type":"queue","serviceBus":{"connection":"main"}}""", "trigger.serviceBus", "needs \"queue\"")]
    [InlineData("""{"type":"queue","serviceBus":{"queue":"orders"}}""", "trigger.serviceBus.connection", "PUT /api/v1/servicebus/connections/{name}")]
    [InlineData("""{"type":"queue","serviceBus":{"connection":"main","queue":"orders","sesion":true}}""", "trigger.serviceBus.sesion", "unknown property")]
    [InlineData("""{"type":"queue","serviceBus":"orders"}""", "trigger.serviceBus", "must be an object")]
    public void A_service_bus_trigger_with_a_mistake_is_refused_at_its_path(string trigger, string path, string message)
    {
        var errors = DefinitionParser.Parse($$"""{"name":"t","trigger":{{trigger}},"steps":[{"id":"a","type":"drop","fields":["x"]}]}""")
            .Errors.ToDictionary(e => e.Path, e => e.Message);

        Assert.True(errors.ContainsKey(path), $"no error at {path}: {string.Join("; ", errors)}");
        Assert.Contains(message, errors[path]);
    }

    private sealed class RecordingDelivery(string body, Func<long>? onComplete = null) : IServiceBusDelivery
    {
        public List<string> Actions { get; } = [];

        public long? RunsWhenCompleted { get; private set; }

        public string MessageId => "m-1";

        public BinaryData Body { get; } = BinaryData.FromString(body);

        public DateTimeOffset EnqueuedAt { get; } = DateTimeOffset.UtcNow;

        public Task CompleteAsync(CancellationToken cancellationToken)
        {
            RunsWhenCompleted = onComplete?.Invoke();
            Actions.Add("complete");
            return Task.CompletedTask;
        }

        public Task AbandonAsync(CancellationToken cancellationToken)
        {
            Actions.Add("abandon");
            return Task.CompletedTask;
        }

        public Task DeadLetterAsync(string reason, string description, CancellationToken cancellationToken)
        {
            Actions.Add($"dead-letter {reason}: {description}");
            return Task.CompletedTask;
        }
    }
}
