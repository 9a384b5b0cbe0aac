using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Tables;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Tables;

public sealed record TableVersionDto(long Version, string Format, IReadOnlyList<string> Columns, long Rows, long Bytes, DateTimeOffset CreatedAt);

public sealed record TableDto(string Name, long LatestVersion, long Rows, IReadOnlyList<TableVersionDto> Versions);

/// <summary>Reference tables for the <c>lookup</c> step: each upload (CSV or JSONL, streamed, any size) is a new version.</summary>
public static class TablesApi
{
    public static RouteGroupBuilder MapTablesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/tables").WithTags("Reference tables");
        group.MapGet("/", (CurrentTenant tenant, ReferenceTables tables) => TypedResults.Ok(ToDtos(tables.List(tenant.Id))))
            .WithSummary("Lists the tenant's reference tables with their versions and row counts.");
        group.MapGet("/{name}", Results<Ok<TableDto>, ProblemHttpResult> (string name, CurrentTenant tenant, ReferenceTables tables) =>
            ToDtos(tables.List(tenant.Id, name)) is [var table] ? TypedResults.Ok(table) : Problems.NotFound("reference table", name))
            .WithSummary("One reference table with all its versions.");
        group.MapPut("/{name}", UploadAsync).WithMetadata(new DisableRequestSizeLimitAttribute())
            .WithSummary("Uploads a new version of a reference table: the body is CSV (Content-Type text/csv, header row) or JSONL (application/x-ndjson), streamed.");
        return group;
    }

    private static async Task<Results<Created<TableVersionDto>, ProblemHttpResult>> UploadAsync(
        string name, HttpRequest request, CurrentTenant tenant, ReferenceTables tables, CancellationToken cancellationToken)
    {
        if (!ReferenceTables.IsValidName(name))
        {
            return Problems.Invalid("Invalid table name", [new DefinitionError("name", $"'{name}' must be {ReferenceTables.NameRule}")]);
        }
        var mediaType = request.ContentType?.Split(';')[0].Trim().ToLowerInvariant();
        InputFormat? format = mediaType switch
        {
            "text/csv" => InputFormat.Csv,
            "application/x-ndjson" or "application/jsonl" or "application/x-jsonlines" => InputFormat.Jsonl,
            _ => null,
        };
        if (format is null)
        {
            return TypedResults.Problem(statusCode: 415, title: "Unsupported table format",
                detail: $"Content-Type '{request.ContentType}' is not a table format: send CSV with a header row as text/csv, or one JSON object per line as application/x-ndjson.");
        }
        try
        {
            var version = await tables.UploadAsync(tenant.Id, name, format.Value, request.Body, cancellationToken);
            return TypedResults.Created($"/api/v1/tables/{name}", ToDto(version));
        }
        catch (RecordException malformed)
        {
            return Problems.BadRequest("Malformed table", $"The upload does not parse as {(format == InputFormat.Csv ? "CSV" : "JSONL")}: {malformed.Message}");
        }
    }

    private static List<TableDto> ToDtos(IReadOnlyList<TableVersionRow> rows) =>
        rows.GroupBy(r => r.Name).Select(g => new TableDto(g.Key, g.First().Version, g.First().Rows, g.Select(ToDto).ToList())).ToList();

    private static TableVersionDto ToDto(TableVersionRow row) =>
        new(row.Version, row.Format, row.ColumnNames, row.Rows, row.Bytes, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt));
}
