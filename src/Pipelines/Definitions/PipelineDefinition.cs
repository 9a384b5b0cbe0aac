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

public static class SinkTypes
{
    public const string Blob = "blob";
    public const string Webhook = "webhook";
    public const string Queue = "queue";
    public static readonly string[] All = [Blob, Webhook, Queue];
}

/// <param name="Type">One of <see cref="SinkTypes"/>.</param>
public sealed record SinkDefinition(string Type, SinkFormat Format, char Delimiter)
{
    /// <summary>blob: where the file goes, a template over run and pipeline (<c>exports/{{run.date}}/{{run.id}}.csv</c>); null for the run's own output.</summary>
    public string? Path { get; init; }

    /// <summary>webhook: the URL batches are POSTed to.</summary>
    public string? Url { get; init; }

    /// <summary>webhook: the name of the tenant secret that signs each delivery.</summary>
    public string? Secret { get; init; }

    /// <summary>queue: the Flowgate queue the records are posted to.</summary>
    public string? Queue { get; init; }

    /// <summary>webhook and queue: records per request or per message.</summary>
    public int BatchSize { get; init; } = 100;
}

public sealed record PipelineSettings(int MaxAttempts, int ChunkSize, int StepTimeoutSeconds)
{
    public static PipelineSettings Default { get; } = new(MaxAttempts: 3, ChunkSize: 10_000, StepTimeoutSeconds: 300);
}

/// <summary>One problem in a definition, with the JSON path it belongs to (<c>steps[1].fields.total</c>).</summary>
public sealed record DefinitionError(string Path, string Message)
{
    public override string ToString() => $"{Path}: {Message}";
}
