using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Saas.Pipelines.Triggers;

namespace Saas.Functions.Triggers;

/// <summary>
/// A refusal written exactly as the web host's tenant API writes it: the same <c>TypedResults.Problem</c> (so the same
/// defaults, such as <c>type</c> and <c>traceId</c>) and <c>Retry-After</c>. HTTP functions must return an
/// <see cref="IActionResult"/>, hence this adapter rather than the <see cref="IResult"/> itself.
/// </summary>
public sealed class ProblemAnswer(TriggerRefusal refused) : IActionResult
{
    public TriggerRefusal Refused => refused;

    public Task ExecuteResultAsync(ActionContext context)
    {
        if (refused.RetryAfterSeconds is { } seconds)
        {
            context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        return TypedResults.Problem(statusCode: refused.Status, title: refused.Title, detail: refused.Detail, extensions: refused.Extensions)
            .ExecuteAsync(context.HttpContext);
    }
}
