using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Tables;
using Saas.Web.Api;
using Saas.Web.Audit;
using Saas.Web.Tenancy;

namespace Saas.Web.Tables;

public sealed record TableVersionDto(long Version, string Format, IReadOnlyList<string> Columns, IReadOnlyList<string> Keys, long Rows, long Bytes, DateTimeOffset CreatedAt, string? CreatedBy);

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
        group.MapGet("/{name}/versions/{version:long}/rows", PreviewAsync)
            .WithSummary($"The first rows of a version (?limit=, at most {ReferenceTables.MaxPreviewRows}), as JSON objects.");
        group.MapPut("/{name}", UploadAsync).WithMetadata(new DisableRequestSizeLimitAttribute())
            .WithSummary("Uploads a new version of a reference table: the body is CSV (Content-Type text/csv, header row) or JSONL (application/x-ndjson), streamed; ?keys=id or ?keys=sku,country declares key columns, checked present and unique.");
        group.MapDelete("/{name}", (string name, HttpContext context, CurrentTenant tenant, TableChanges changes, CancellationToken ct) => DeleteAsync(name, null, context, tenant, changes, ct))
            .WithSummary("Deletes a table with every version and its stored rows; refused (409) while a pipeline's current version looks it up.");
        group.MapDelete("/{name}/versions/{version:long}", (string name, long version, HttpContext context, CurrentTenant tenant, TableChanges changes, CancellationToken ct) => DeleteAsync(name, version, context, tenant, changes, ct))
            .WithSummary("Deletes one version (runs then join the newest version uploaded before them); the last version is refused (409) while a pipeline looks the table up.");
        return group;
    }

    private static async Task<Results<Created<TableVersionDto>, ProblemHttpResult>> UploadAsync(
        string name, string? keys, HttpRequest request, CurrentTenant tenant, TableChanges changes, CancellationToken cancellationToken)
    {
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
        var keyColumns = keys is null ? [] : keys.Split(',', StringSplitOptions.TrimEntries).ToList();
        var upload = await changes.UploadAsync(tenant.Id, request.HttpContext.Actor(), tenant.KeyId, name, format.Value, keyColumns, request.Body, cancellationToken);
        if (upload.Saved is not { } version)
        {
            return upload.Errors.Any(e => e.Path == "content")
                ? Problems.BadRequest("Malformed table", upload.Errors[0].Message)
                : Problems.Invalid("Invalid table upload", upload.Errors);
        }
        return TypedResults.Created($"/api/v1/tables/{name}", ToDto(version));
    }

    private static async Task<Results<Ok<IReadOnlyList<Record>>, ProblemHttpResult>> PreviewAsync(
        string name, long version, int? limit, CurrentTenant tenant, ReferenceTables tables, CancellationToken cancellationToken)
    {
        if (tables.List(tenant.Id, name).FirstOrDefault(v => v.Version == version) is not { } row)
        {
            return Problems.NotFound("reference table version", $"{name}/{version}");
        }
        return TypedResults.Ok(await tables.PreviewAsync(row, limit ?? 20, cancellationToken));
    }

    private static async Task<Results<NoContent, ProblemHttpResult>> DeleteAsync(
        string name, long? version, HttpContext context, CurrentTenant tenant, TableChanges changes, CancellationToken cancellationToken)
    {
        var deletion = await changes.DeleteAsync(tenant.Id, context.Actor(), name, version, cancellationToken);
        if (deletion.NotFound)
        {
            return version is null ? Problems.NotFound("reference table", name) : Problems.NotFound("reference table version", $"{name}/{version}");
        }
        return deletion.UsedBy.Count > 0 ? Problems.Conflict("Reference table in use", deletion.Refusal(name)) : TypedResults.NoContent();
    }

    private static List<TableDto> ToDtos(IReadOnlyList<TableVersionRow> rows) =>
        rows.GroupBy(r => r.Name).Select(g => new TableDto(g.Key, g.First().Version, g.First().Rows, g.Select(ToDto).ToList())).ToList();

    private static TableVersionDto ToDto(TableVersionRow row) =>
        new(row.Version, row.Format, row.ColumnNames, row.KeyColumnNames, row.Rows, row.Bytes, DateTimeOffset.FromUnixTimeMilliseconds(row.CreatedAt), row.CreatedBy);
}
