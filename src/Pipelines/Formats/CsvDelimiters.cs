namespace Saas.Pipelines.Formats;

/// <summary>The field delimiters a pipeline may choose for CSV input and output.</summary>
public static class CsvDelimiters
{
    public const char Default = ',';

    public static IReadOnlyList<char> Supported { get; } = [',', ';', '\t', '|'];

    public static bool IsSupported(char delimiter) => delimiter is ',' or ';' or '\t' or '|';

    internal static void EnsureSupported(char delimiter)
    {
        if (!IsSupported(delimiter))
        {
            throw new ArgumentOutOfRangeException(nameof(delimiter), delimiter,
                "the CSV delimiter must be one of ',', ';', tab or '|'");
        }
    }
}
