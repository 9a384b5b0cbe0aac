namespace Saas.Pipelines.Formats;

public enum InputFormat
{
    Csv,
    Json,
    Jsonl,
}
