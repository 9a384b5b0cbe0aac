namespace Saas.Pipelines.Formats;

public enum InputFormat
{
    Csv,
    Json,
    Jsonl,
}

/// <summary>The names formats have in definitions, run rows and file extensions.</summary>
public static class InputFormatNames
{
    public static readonly string[] All = ["csv", "json", "jsonl"];

    public static string Of(InputFormat format) => format switch
    {
        InputFormat.Csv => "csv",
        InputFormat.Json => "json",
        _ => "jsonl",
    };

    public static InputFormat Parse(string name) => name switch
    {
        "csv" => InputFormat.Csv,
        "json" => InputFormat.Json,
        _ => InputFormat.Jsonl,
    };
}
