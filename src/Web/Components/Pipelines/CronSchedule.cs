using Cronos;

namespace Saas.Web.Components.Pipelines;

/// <summary>When a schedule trigger fires, as the scheduler reads its cron (5 fields, or 6 with seconds first).</summary>
public static class CronSchedule
{
    /// <returns>The next <paramref name="count"/> fire times after <paramref name="from"/>, shown in <paramref name="display"/>; empty if the cron or zone is not valid.</returns>
    public static IReadOnlyList<DateTimeOffset> Next(string? cron, string? scheduleZone, DateTimeOffset from, TimeZoneInfo display, int count = 5)
    {
        if (string.IsNullOrWhiteSpace(cron) || !TimeZoneInfo.TryFindSystemTimeZoneById(string.IsNullOrEmpty(scheduleZone) ? "UTC" : scheduleZone, out var zone))
        {
            return [];
        }
        var fields = cron.Split(' ', StringSplitOptions.RemoveEmptyEntries).Length;
        if (fields is not (5 or 6) || !CronExpression.TryParse(cron, fields == 6 ? CronFormat.IncludeSeconds : CronFormat.Standard, out var expression))
        {
            return [];
        }
        var times = new List<DateTimeOffset>(count);
        var after = from;
        while (times.Count < count && expression.GetNextOccurrence(after, zone) is { } next)
        {
            times.Add(TimeZoneInfo.ConvertTime(next, display));
            after = next;
        }
        return times;
    }

    /// <summary>Common schedules a user can start from.</summary>
    public static readonly IReadOnlyList<(string Label, string Cron)> Presets =
    [
        ("Every 15 minutes", "*/15 * * * *"),
        ("Every hour", "0 * * * *"),
        ("Every day at 06:00", "0 6 * * *"),
        ("Weekdays at 09:00", "0 9 * * 1-5"),
        ("Mondays at 08:00", "0 8 * * 1"),
        ("First of the month at 00:00", "0 0 1 * *"),
    ];
}
