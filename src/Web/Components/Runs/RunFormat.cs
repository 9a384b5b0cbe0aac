using MudBlazor;
using Saas.Pipelines.Runs;

namespace Saas.Web.Components.Runs;

/// <summary>How runs read on the portal's pages.</summary>
public static class RunFormat
{
    public static Color StatusColor(string status) => status switch
    {
        RunStatus.Succeeded => Color.Success,
        RunStatus.Failed => Color.Error,
        RunStatus.Cancelled => Color.Default,
        "retrying" => Color.Warning,
        RunStatus.Running => Color.Info,
        _ => Color.Secondary,
    };

    public static string Time(long? unixMilliseconds) =>
        unixMilliseconds is { } at ? Time(DateTimeOffset.FromUnixTimeMilliseconds(at)) : "–";

    public static string Time(DateTimeOffset? at) => at is { } value ? value.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss") + " UTC" : "–";

    public static string Duration(double? milliseconds) => milliseconds switch
    {
        null => "–",
        < 1_000 => $"{milliseconds:0.#} ms",
        < 60_000 => $"{milliseconds / 1000:0.##} s",
        _ => TimeSpan.FromMilliseconds(milliseconds.Value).ToString(@"h\:mm\:ss"),
    };

    public static string Size(long bytes) => bytes switch
    {
        < 1024 => $"{bytes} B",
        < 1024 * 1024 => $"{bytes / 1024.0:0.#} KB",
        < 1024L * 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.#} MB",
        _ => $"{bytes / (1024.0 * 1024 * 1024):0.##} GB",
    };

    public static string Count(long? value) => value is { } n ? n.ToString("N0", System.Globalization.CultureInfo.InvariantCulture) : "–";
}
