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
    JsonElement? Input);

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
