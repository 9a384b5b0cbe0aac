using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Triggers;

namespace Saas.Web.Api;

/// <summary>The API's problem+json answers: each says what went wrong and how to fix it.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what, string id) => From(RequestRefusal.NotFound(what, id));

    public static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: 400, title: title, detail: detail);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: 409, title: title, detail: detail);

    public static ProblemHttpResult TooLarge(long limit) => From(RequestRefusal.TooLarge(limit));

    /// <summary>The engine's refusal as this host answers it; the Functions app's HTTP trigger answers the same.</summary>
    public static ProblemHttpResult From(RequestRefusal refused) =>
        TypedResults.Problem(statusCode: refused.Status, title: refused.Title, detail: refused.Detail, extensions: refused.Extensions);

    public static ProblemHttpResult InvalidDefinition(IReadOnlyList<DefinitionError> errors) => Invalid("Invalid pipeline definition", errors);

    /// <summary>400 listing every problem with the path it belongs to.</summary>
    public static ProblemHttpResult Invalid(string title, IReadOnlyList<DefinitionError> errors) =>
        TypedResults.Problem(statusCode: 400, title: title,
            detail: $"{errors.Count} problem(s): " + string.Join("; ", errors.Select(e => e.ToString())),
            extensions: new Dictionary<string, object?> { ["errors"] = errors.Select(e => new { path = e.Path, message = e.Message }).ToArray() });
}
