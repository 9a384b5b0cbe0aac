using System.Text.Json.Serialization;
using Saas.Pipelines.Ai;
using Saas.Web.Tenancy;

namespace Saas.Web.Gateway;

/// <summary>OpenAI's wire format for <c>GET /v1/models</c>: the tenant's model aliases.</summary>
public sealed record ModelListDto(string Object, IReadOnlyList<ModelEntryDto> Data);

public sealed record ModelEntryDto(string Id, string Object, long Created, [property: JsonPropertyName("owned_by")] string OwnedBy);

public static class ModelsApi
{
    public static RouteGroupBuilder MapGatewayApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/v1").RequireAuthorization().WithTags("AI gateway");
        group.MapGet("/models", (CurrentTenant tenant, AiSettingsStore store) =>
            TypedResults.Ok(new ModelListDto("list", store.ListModels(tenant.Id)
                .Select(m => new ModelEntryDto(m.Alias, "model", m.UpdatedAt / 1000, "flowgate"))
                .Append(new ModelEntryDto(LocalEmbeddings.Model, "model", 0, "flowgate-local"))
                .DistinctBy(m => m.Id)
                .ToList())));
        group.MapChatCompletionsApi();
        group.RequireGatewayLimits();
        return group;
    }
}
