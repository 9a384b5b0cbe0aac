namespace Saas.Pipelines.Formats;

public enum SinkFormat
{
    Jsonl,
    Csv,
    Json,
}
