using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Secrets;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Secrets;

public sealed record SecretDto(string Name, DateTimeOffset UpdatedAt);

public sealed record SecretRequest(string? Value);

/// <summary>
/// A tenant's named secrets, referenced by steps and sinks as <c>{{secrets.name}}</c> or <c>"secret": "name"</c>.
/// Write-only: no answer ever carries a value.
/// </summary>
public static class SecretsApi
{
    public const int MaxValueLength = 8 * 1024;

    public static RouteGroupBuilder MapSecretsApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/secrets").WithTags("Secrets");
        group.MapGet("/", (CurrentTenant tenant, TenantSecrets secrets) => TypedResults.Ok(secrets.List(tenant.Id).Select(ToDto).ToList()))
            .WithSummary("Lists the tenant's secrets: names and when each was last set, never values.");
        group.MapPut("/{name}", PutAsync)
            .WithSummary("Creates or replaces a secret from {\"value\":\"...\"}; the value is encrypted at rest and can never be read back.");
        group.MapDelete("/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, CurrentTenant tenant, TenantSecrets secrets, CancellationToken ct) =>
            await secrets.DeleteAsync(tenant.Id, name, ct) ? TypedResults.NoContent() : Problems.NotFound("secret", name))
            .WithSummary("Deletes a secret. Pipelines that use it fail with a message naming it until it is set again.");
        return group;
    }

    private static async Task<Results<Ok<SecretDto>, ProblemHttpResult>> PutAsync(
        string name, SecretRequest request, CurrentTenant tenant, TenantSecrets secrets, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (!TenantSecrets.IsValidName(name))
        {
            errors.Add(new("name", $"'{name}' must be {TenantSecrets.NameRule}"));
        }
        if (string.IsNullOrEmpty(request.Value))
        {
            errors.Add(new("value", "is required: the secret's value as a string, e.g. {\"value\":\"sk-...\"}"));
        }
        else if (request.Value.Length > MaxValueLength)
        {
            errors.Add(new("value", $"must be at most {MaxValueLength} characters, found {request.Value.Length}"));
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid("Invalid secret", errors);
        }
        return TypedResults.Ok(ToDto(await secrets.SaveAsync(tenant.Id, name, request.Value!, cancellationToken)));
    }

    private static SecretDto ToDto(SecretInfo secret) => new(secret.Name, DateTimeOffset.FromUnixTimeMilliseconds(secret.UpdatedAt));
}
