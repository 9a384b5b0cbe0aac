using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Definitions;

namespace Saas.Web.Api;

/// <summary>The API's problem+json answers: each says what went wrong and how to fix it.</summary>
public static class Problems
{
    public static ProblemHttpResult NotFound(string what, string id) =>
        TypedResults.Problem(statusCode: 404, title: $"{what} not found", detail: $"No {what} with id '{id}' exists in this tenant.");

    public static ProblemHttpResult BadRequest(string title, string detail) =>
        TypedResults.Problem(statusCode: 400, title: title, detail: detail);

    public static ProblemHttpResult Conflict(string title, string detail) =>
        TypedResults.Problem(statusCode: 409, title: title, detail: detail);

    public static ProblemHttpResult TooLarge(long limit) =>
        TypedResults.Problem(statusCode: 413, title: "Request body too large",
            detail: $"The body exceeds {limit:N0} bytes. Send large inputs as a file to POST /api/v1/pipelines/{{id}}/uploads, which streams any size.");

    public static ProblemHttpResult InvalidDefinition(IReadOnlyList<DefinitionError> errors) => Invalid("Invalid pipeline definition", errors);

    /// <summary>400 listing every problem with the path it belongs to.</summary>
    public static ProblemHttpResult Invalid(string title, IReadOnlyList<DefinitionError> errors) =>
        TypedResults.Problem(statusCode: 400, title: title,
            detail: $"{errors.Count} problem(s): " + string.Join("; ", errors.Select(e => e.ToString())),
            extensions: new Dictionary<string, object?> { ["errors"] = errors.Select(e => new { path = e.Path, message = e.Message }).ToArray() });
}
