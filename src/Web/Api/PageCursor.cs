using Microsoft.AspNetCore.Http.HttpResults;

namespace Saas.Web.Api;

/// <summary>The <c>next</c> cursor of time-ordered pages: <c>{unix ms}.{id}</c> of the last item of the previous page.</summary>
public static class PageCursor
{
    public static string Of(long at, string id) => $"{at}.{id}";

    /// <returns>False when the text is not a cursor this API handed out.</returns>
    public static bool TryParse(string? text, out (long At, string Id)? cursor)
    {
        cursor = null;
        if (text is null)
        {
            return true;
        }
        var parts = text.Split('.', 2);
        if (parts.Length != 2 || !long.TryParse(parts[0], out var at))
        {
            return false;
        }
        cursor = (at, parts[1]);
        return true;
    }

    public static ProblemHttpResult Invalid() => Problems.BadRequest("Invalid cursor", "cursor must be the 'next' value of the previous page");
}
