using System.Text.Json;
using Saas.Pipelines.Formats;

namespace Saas.Pipelines.Definitions;

/// <summary>A validated pipeline definition: what one immutable version of a pipeline does.</summary>
public sealed record PipelineDefinition(
    string Name,
    TriggerDefinition Trigger,
    IReadOnlyList<StepDefinition> Steps,
    SinkDefinition Sink,
    PipelineSettings Settings);

public static class TriggerTypes
{
    public const string Http = "http";
    public const string Upload = "upload";
    public const string Queue = "queue";
    public const string Schedule = "schedule";
    public static readonly string[] All = [Http, Upload, Queue, Schedule];
}

public sealed record TriggerDefinition(
    string Type,
    InputFormat Format,
    char Delimiter,
    string? Queue,
    string? Cron,
    string? TimeZone,
    JsonElement? Input)
{
    /// <summary>For a queue trigger: the Service Bus entity it listens to instead of a Flowgate queue.</summary>
    public ServiceBusSource? ServiceBus { get; init; }
}

/// <summary>A Service Bus queue, or a topic subscription, reached with a tenant's saved connection (by name).</summary>
public sealed record ServiceBusSource(string Connection, string? Queue, string? Topic, string? Subscription)
{
    public string Entity => Queue ?? $"{Topic}/subscriptions/{Subscription}";
}

/// <summary>A step as written in the definition; <see cref="Config"/> is the whole step object.</summary>
public sealed record StepDefinition(string Id, string Type, bool Disabled, JsonElement Config);

public sealed record SinkDefinition(string Type, SinkFormat Format, char Delimiter);

public sealed record PipelineSettings(int MaxAttempts, int ChunkSize, int StepTimeoutSeconds)
{
    public static PipelineSettings Default { get; } = new(MaxAttempts: 3, ChunkSize: 10_000, StepTimeoutSeconds: 300);
}

/// <summary>One problem in a definition, with the JSON path it belongs to (<c>steps[1].fields.total</c>).</summary>
public sealed record DefinitionError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
