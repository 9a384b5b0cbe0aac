using Azure.Messaging.ServiceBus;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Network;
using Saas.Pipelines.ServiceBus;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.ServiceBus;

public sealed record ServiceBusConnectionDto(string Name, string Namespace, DateTimeOffset UpdatedAt);

public sealed record ServiceBusConnectionRequest(string? ConnectionString);

/// <summary>A tenant's Service Bus connections (write-only secrets, encrypted at rest), named by pipelines' queue triggers.</summary>
public static class ServiceBusApi
{
    public static RouteGroupBuilder MapServiceBusApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/servicebus").WithTags("Service Bus");
        group.MapGet("/connections", (CurrentTenant tenant, ServiceBusConnections store) => TypedResults.Ok(store.List(tenant.Id).Select(ToDto).ToList()));
        group.MapPut("/connections/{name}", PutAsync);
        group.MapDelete("/connections/{name}", async Task<Results<NoContent, ProblemHttpResult>> (string name, CurrentTenant tenant, ServiceBusConnections store, CancellationToken ct) =>
            await store.DeleteAsync(tenant.Id, name, ct) ? TypedResults.NoContent() : Problems.NotFound("Service Bus connection", name));
        return group;
    }

    private static async Task<Results<Ok<ServiceBusConnectionDto>, ProblemHttpResult>> PutAsync(
        string name, ServiceBusConnectionRequest request, CurrentTenant tenant, ServiceBusConnections store, GuardedHttpClientFactory network, CancellationToken cancellationToken)
    {
        var errors = new List<DefinitionError>();
        if (!DefinitionParser.IsQueueName(name))
        {
            errors.Add(new("name", "must be 1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit"));
        }
        string? @namespace = null;
        if (string.IsNullOrWhiteSpace(request.ConnectionString))
        {
            errors.Add(new("connectionString", "is required: the namespace's connection string, Endpoint=sb://<namespace>.servicebus.windows.net/;SharedAccessKeyName=…;SharedAccessKey=…"));
        }
        else
        {
            try
            {
                var properties = ServiceBusConnectionStringProperties.Parse(request.ConnectionString);
                @namespace = properties.FullyQualifiedNamespace;
                network.Urls.EnsureAllowed(new Uri($"https://{@namespace}/"));
            }
            catch (FormatException error)
            {
                errors.Add(new("connectionString", $"is not a Service Bus connection string: {error.Message}"));
            }
            catch (OutboundCallRefusedException refused)
            {
                errors.Add(new("connectionString", $"its endpoint is refused: {refused.Message}"));
            }
        }
        if (errors.Count > 0)
        {
            return Problems.Invalid("Invalid Service Bus connection", errors);
        }
        return TypedResults.Ok(ToDto(await store.SaveAsync(tenant.Id, name, @namespace!, request.ConnectionString!, cancellationToken)));
    }

    private static ServiceBusConnectionDto ToDto(ServiceBusConnectionRow row) => new(row.Name, row.Namespace, DateTimeOffset.FromUnixTimeMilliseconds(row.UpdatedAt));
}
