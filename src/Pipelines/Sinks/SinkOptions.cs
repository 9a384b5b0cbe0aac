using System.Text.RegularExpressions;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Secrets;

namespace Saas.Pipelines.Sinks;

/// <summary>Reads what each sink type needs beyond its format.</summary>
internal static class SinkOptions
{
    public static SinkDefinition? Read(JsonObjectReader sink, string type)
    {
        var errors = sink.Errors.Count;
        var definition = new SinkDefinition(type, SinkFormat.Jsonl, ',');
        switch (type)
        {
            case SinkTypes.Blob:
                var path = sink.String("path", required: false);
                if (path is not null && ExportPath.Validate(path) is { } problem)
                {
                    sink.Error(sink.At("path"), problem);
                }
                definition = definition with { Path = path };
                break;
            case SinkTypes.Webhook:
                var url = sink.String("url", required: true, "the https URL batches of records are POSTed to");
                if (url is not null && !(Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
                {
                    sink.Error(sink.At("url"), $"'{url}' is not an absolute http(s) URL");
                }
                var secret = sink.String("secret", required: true, "the name of a tenant secret (PUT /api/v1/secrets/{name}) that signs every delivery");
                if (secret is not null && !TenantSecrets.IsValidName(secret))
                {
                    sink.Error(sink.At("secret"), $"'{secret}' is not a secret name ({TenantSecrets.NameRule})");
                }
                definition = definition with { Url = url, Secret = secret, BatchSize = sink.Int("batchSize", 100, 1, 10_000) };
                break;
            case SinkTypes.Queue:
                var queue = sink.String("queue", required: true, "the Flowgate queue to post the records to, e.g. \"enriched\"");
                if (queue is not null && !DefinitionParser.IsQueueName(queue))
                {
                    sink.Error(sink.At("queue"), "must be 1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit");
                }
                definition = definition with { Queue = queue, BatchSize = sink.Int("batchSize", 1_000, 1, 100_000) };
                break;
        }
        if (type != SinkTypes.Blob && sink.Property("format") is { } format && format.ToString() != "jsonl")
        {
            sink.Error(sink.At("format"), $"a {type} sink sends JSON records; remove \"format\"");
        }
        return sink.Errors.Count == errors ? definition : null;
    }
}

/// <summary>
/// Where a blob sink writes: a relative path with placeholders <c>{{run.id}}</c>, <c>{{run.date}}</c> (yyyy-MM-dd, UTC),
/// <c>{{run.time}}</c> (HHmmss, UTC), <c>{{pipeline.id}}</c> and <c>{{pipeline.version}}</c>, readable at
/// <c>GET /api/v1/files/{path}</c> and as the run's output.
/// </summary>
public static partial class ExportPath
{
    private static readonly string[] Placeholders = ["run.id", "run.date", "run.time", "pipeline.id", "pipeline.version"];

    /// <returns>null if the template is usable, else what is wrong.</returns>
    public static string? Validate(string template)
    {
        foreach (Match match in Placeholder().Matches(template))
        {
            if (!Placeholders.Contains(match.Groups[1].Value.Trim()))
            {
                return $"unknown placeholder {match.Value}; use {string.Join(", ", Placeholders.Select(p => "{{" + p + "}}"))}";
            }
        }
        return ValidatePath(Placeholder().Replace(template, "x"));
    }

    /// <returns>null if the path is a safe relative file path, else what is wrong.</returns>
    public static string? ValidatePath(string path)
    {
        if (path.Length is 0 or > 512)
        {
            return "must be 1-512 characters";
        }
        if (!SafePath().IsMatch(path) || path.Split('/').Any(segment => segment is "" or "." or ".."))
        {
            return $"'{path}' must be a relative path of segments made of letters, digits, '.', '-' and '_', separated by '/' (no empty, '.' or '..' segments)";
        }
        return null;
    }

    public static string Render(string template, string runId, DateTimeOffset runCreated, string pipelineId, long version) =>
        Placeholder().Replace(template, match => match.Groups[1].Value.Trim() switch
        {
            "run.id" => runId,
            "run.date" => runCreated.UtcDateTime.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture),
            "run.time" => runCreated.UtcDateTime.ToString("HHmmss", System.Globalization.CultureInfo.InvariantCulture),
            "pipeline.id" => pipelineId,
            _ => version.ToString(System.Globalization.CultureInfo.InvariantCulture),
        });

    /// <summary>The blob key of a tenant's file.</summary>
    public static string Key(string tenantId, string path) => $"{tenantId}/files/{path}";

    [GeneratedRegex(@"\{\{(.*?)\}\}")]
    private static partial Regex Placeholder();

    [GeneratedRegex("^[A-Za-z0-9._/-]+$")]
    private static partial Regex SafePath();
}
