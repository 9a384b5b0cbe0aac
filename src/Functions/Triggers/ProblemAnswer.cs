using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Saas.Pipelines.Triggers;

namespace Saas.Functions.Triggers;

/// <summary>
/// A refusal written exactly as the web host's tenant API writes it: the same <c>TypedResults.Problem</c> (so the same
/// defaults, such as <c>type</c> and <c>traceId</c>), <c>Retry-After</c> and, on a 401, <c>WWW-Authenticate</c>. HTTP functions must return an
/// <see cref="IActionResult"/>, hence this adapter rather than the <see cref="IResult"/> itself.
/// </summary>
public sealed class ProblemAnswer(RequestRefusal refused) : IActionResult
{
    public RequestRefusal Refused => refused;

    public Task ExecuteResultAsync(ActionContext context)
    {
        if (refused.Status == StatusCodes.Status401Unauthorized)
        {
            context.HttpContext.Response.Headers.WWWAuthenticate = "Bearer";
        }
        if (refused.RetryAfterSeconds is { } seconds)
        {
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return TypedResults.Problem(statusCode: refused.Status, title: refused.Title, detail: refused.Detail, extensions: refused.Extensions)
            .ExecuteAsync(context.HttpContext);
    }
}
