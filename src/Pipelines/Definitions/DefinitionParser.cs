using System.Text.Json;
using System.Text.RegularExpressions;
using Cronos;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Steps;

namespace Saas.Pipelines.Definitions;

/// <summary>The outcome of reading a definition: a runnable pipeline, or every problem found.</summary>
public sealed record DefinitionResult(CompiledPipeline? Pipeline, IReadOnlyList<DefinitionError> Errors)
{
    public bool IsValid => Pipeline is not null;
}

/// <summary>A definition with its steps compiled; enabled steps only, in order.</summary>
public sealed record CompiledPipeline(PipelineDefinition Definition, IReadOnlyList<CompiledStep> Steps);

public sealed record CompiledStep(int Index, string Id, string Type, IStep Step);

/// <summary>Parses and validates pipeline definitions, reporting every problem with its path.</summary>
public static partial class DefinitionParser
{
    public static DefinitionResult Parse(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
            return Parse(document.RootElement);
        }
        catch (JsonException error)
        {
            return Invalid(new DefinitionError("$", $"the definition is not valid JSON{DescribeJsonError(error)}"));
        }
    }

    public static DefinitionResult Parse(JsonElement root)
    {
        var errors = new List<DefinitionError>();
        var pipeline = new JsonObjectReader(root, "", errors);
        if (!pipeline.IsObject)
        {
            return new DefinitionResult(null, [new DefinitionError("$", errors[0].Message)]);
        }
        var name = pipeline.String("name", required: true, "a short name for the pipeline");
        if (name is { Length: > 200 })
        {
            pipeline.Error("name", "must be at most 200 characters");
        }
        var trigger = ReadTrigger(pipeline, errors);
        var steps = ReadSteps(pipeline, errors, out var compiled);
        var sink = ReadSink(pipeline, errors);
        var settings = ReadSettings(pipeline, errors);
        pipeline.RejectUnknownProperties();

        if (errors.Count > 0 || name is null || trigger is null || sink is null)
        {
            return new DefinitionResult(null, errors);
        }
        var definition = new PipelineDefinition(name, trigger, steps, sink, settings);
        return new DefinitionResult(new CompiledPipeline(definition, compiled), []);
    }

    private static TriggerDefinition? ReadTrigger(JsonObjectReader pipeline, List<DefinitionError> errors)
    {
        var element = pipeline.Property("trigger");
        if (element is null)
        {
            pipeline.Error("trigger", $"is required: an object with \"type\" one of {string.Join(", ", TriggerTypes.All)}");
            return null;
        }
        var trigger = new JsonObjectReader(element.Value, "trigger", errors);
        if (!trigger.IsObject)
        {
            return null;
        }
        var type = trigger.OneOf("type", TriggerTypes.All, required: true);
        var format = InputFormat.Json;
        var delimiter = ',';
        string? queue = null, cron = null, timeZone = null;
        JsonElement? input = null;
        switch (type)
        {
            case TriggerTypes.Upload:
                format = InputFormatNames.Parse(trigger.OneOf("format", InputFormatNames.All, required: true) ?? "json");
                delimiter = trigger.Delimiter("delimiter");
                if (format != InputFormat.Csv && trigger.Property("delimiter") is not null)
                {
                    trigger.Error(trigger.At("delimiter"), "applies only to the csv format");
                }
                break;
            case TriggerTypes.Queue:
                queue = trigger.String("queue", required: true, "the queue name messages are posted to, e.g. \"orders\"");
                if (queue is not null && !QueueName().IsMatch(queue))
                {
                    trigger.Error(trigger.At("queue"), "must be 1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit");
                }
                break;
            case TriggerTypes.Schedule:
                cron = trigger.String("cron", required: true, "5 fields (minute hour day month weekday) or 6 with seconds first");
                if (cron is not null)
                {
                    var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
                    if (fields is not (5 or 6))
                    {
                        trigger.Error(trigger.At("cron"), $"must have 5 fields (minute hour day month weekday) or 6 (with seconds first), found {fields}");
                    }
                    else if (!CronExpression.TryParse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard, out _))
                    {
                        trigger.Error(trigger.At("cron"), $"'{cron}' is not a valid cron expression");
                    }
                }
                timeZone = trigger.String("timeZone", required: false) ?? "UTC";
                if (!TimeZoneInfo.TryFindSystemTimeZoneById(timeZone, out _))
                {
                    trigger.Error(trigger.At("timeZone"), $"'{timeZone}' is not a known IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)");
                }
                input = trigger.Property("input");
                if (input is { ValueKind: not (JsonValueKind.Object or JsonValueKind.Array) })
                {
                    trigger.Error(trigger.At("input"), $"must be an object or an array of objects, found {JsonObjectReader.Describe(input.Value)}");
                }
                break;
        }
        trigger.RejectUnknownProperties();
        return type is null ? null : new TriggerDefinition(type, format, delimiter, queue, cron, timeZone, input?.Clone());
    }

    private static List<StepDefinition> ReadSteps(JsonObjectReader pipeline, List<DefinitionError> errors, out List<CompiledStep> compiled)
    {
        var steps = new List<StepDefinition>();
        compiled = [];
        var element = pipeline.Property("steps");
        if (element is null || element.Value.ValueKind != JsonValueKind.Array)
        {
            pipeline.Error("steps", element is null
                ? "is required: an array of steps, e.g. [{\"id\":\"clean\",\"type\":\"map\",\"fields\":{...}}]"
                : $"must be an array of steps, found {JsonObjectReader.Describe(element.Value)}");
            return steps;
        }
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var index = 0;
        foreach (var item in element.Value.EnumerateArray())
        {
            var path = $"steps[{index}]";
            var step = new JsonObjectReader(item, path, errors);
            if (step.IsObject)
            {
                var id = step.String("id", required: true, "a unique name for the step, e.g. \"clean\"");
                if (id is not null && !StepId().IsMatch(id))
                {
                    step.Error(step.At("id"), $"'{id}' must be 1-64 characters: letters, digits, '-' or '_'");
                }
                else if (id is not null && !ids.Add(id))
                {
                    step.Error(step.At("id"), $"'{id}' is used by an earlier step; step ids must be unique");
                }
                var type = step.OneOf("type", StepCatalogue.Types, required: true);
                var disabled = step.Bool("disabled", false);
                var compiledStep = type is null ? null : StepCatalogue.Compile(type, step);
                if (type is not null)
                {
                    step.RejectUnknownProperties();
                }
                if (id is not null && type is not null)
                {
                    steps.Add(new StepDefinition(id, type, disabled, item.Clone()));
                    if (compiledStep is not null && !disabled)
                    {
                        compiled.Add(new CompiledStep(compiled.Count, id, type, compiledStep));
                    }
                }
            }
            index++;
        }
        if (index > 100)
        {
            pipeline.Error("steps", $"a pipeline has at most 100 steps, found {index}");
        }
        if (index > 0 && compiled.Count == 0 && errors.Count == 0)
        {
            pipeline.Error("steps", "every step is disabled; enable at least one");
        }
        if (index == 0)
        {
            pipeline.Error("steps", "must contain at least one step");
        }
        return steps;
    }

    private static SinkDefinition? ReadSink(JsonObjectReader pipeline, List<DefinitionError> errors)
    {
        var element = pipeline.Property("sink");
        if (element is null)
        {
            return new SinkDefinition("blob", SinkFormat.Jsonl, ',');
        }
        var sink = new JsonObjectReader(element.Value, "sink", errors);
        if (!sink.IsObject)
        {
            return null;
        }
        var type = sink.OneOf("type", SinkTypes.All, required: true);
        var format = sink.OneOf("format", ["jsonl", "csv", "json"], required: false, fallback: "jsonl");
        var delimiter = sink.Delimiter("delimiter");
        var options = type is null ? null : Sinks.SinkOptions.Read(sink, type);
        sink.RejectUnknownProperties();
        if (type is null || format is null || options is null)
        {
            return null;
        }
        return options with { Format = format switch { "csv" => SinkFormat.Csv, "json" => SinkFormat.Json, _ => SinkFormat.Jsonl }, Delimiter = delimiter };
    }

    private static PipelineSettings ReadSettings(JsonObjectReader pipeline, List<DefinitionError> errors)
    {
        var element = pipeline.Property("settings");
        if (element is null)
        {
            return PipelineSettings.Default;
        }
        var settings = new JsonObjectReader(element.Value, "settings", errors);
        var defaults = PipelineSettings.Default;
        var result = new PipelineSettings(
            MaxAttempts: settings.Int("maxAttempts", defaults.MaxAttempts, 1, 20),
            ChunkSize: settings.Int("chunkSize", defaults.ChunkSize, 1, 1_000_000),
            StepTimeoutSeconds: settings.Int("stepTimeoutSeconds", defaults.StepTimeoutSeconds, 1, 3600));
        settings.RejectUnknownProperties();
        return result;
    }

    private static DefinitionResult Invalid(DefinitionError error) => new(null, [error]);

    /// <summary>" at line L, column C: what" for a JSON syntax error (System.Text.Json's positions are 0-based).</summary>
    public static string DescribeJsonError(JsonException error)
    {
        var where = error.LineNumber is { } line ? $" at line {line + 1}, column {error.BytePositionInLine + 1}" : "";
        return $"{where}: {error.Message.Split(" Path:")[0].Split(" LineNumber:")[0].TrimEnd('.')}";
    }

    public static bool IsQueueName(string name) => QueueName().IsMatch(name);

    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
    private static partial Regex QueueName();

    [GeneratedRegex("^[A-Za-z0-9_-]{1,64}$")]
    private static partial Regex StepId();
}
