using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Sinks;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Files;

/// <summary>Files that blob sinks wrote at a path of their own (<c>"path": "exports/{{run.date}}/{{run.id}}.csv"</c>).</summary>
public static class FilesApi
{
    public static RouteGroupBuilder MapFilesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/files").WithTags("Files");
        group.MapGet("/{**path}", ReadAsync).WithSummary("Reads a file a blob sink wrote, by its rendered path.");
        return group;
    }

    private static async Task<Results<FileStreamHttpResult, ProblemHttpResult>> ReadAsync(string path, CurrentTenant tenant, SmallBlobs blobs, CancellationToken cancellationToken)
    {
        if (ExportPath.ValidatePath(path) is not null)
        {
            return Problems.NotFound("file", path);
        }
        try
        {
            var stream = await blobs.OpenReadAsync(tenant.Id, ExportPath.Key(tenant.Id, path), cancellationToken);
            var extension = Path.GetExtension(path).TrimStart('.');
            var contentType = extension switch { "csv" => "text/csv", "json" => "application/json", "jsonl" => "application/x-ndjson", _ => "application/octet-stream" };
            return TypedResults.Stream(stream, contentType, Path.GetFileName(path));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return Problems.NotFound("file", path);
        }
    }
}
