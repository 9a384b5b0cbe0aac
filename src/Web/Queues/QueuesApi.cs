using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Triggers;
using Saas.Web.Api;
using Saas.Web.Tenancy;

namespace Saas.Web.Queues;

public sealed record QueuePostedDto(string Queue, int Accepted, int Pipelines);

public static class QueuesApi
{
    public static RouteGroupBuilder MapQueuesApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/queues").WithTags("Queues");
        group.MapPost("/{queue}/messages", PostAsync);
        return group;
    }

    /// <summary>One JSON message or an array of them; each starts a run of every active pipeline listening on the queue.</summary>
    private static async Task<Results<Accepted<QueuePostedDto>, ProblemHttpResult>> PostAsync(
        string queue, HttpRequest request, CurrentTenant tenant, QueueMessages messages, Saas.Pipelines.Billing.SpendingGuard spending, CancellationToken cancellationToken)
    {
        if (spending.NewWorkRefusal(tenant.Id) is { } refused)
        {
            return Saas.Web.Billing.BillingProblems.PaymentRequired(refused);
        }
        if (!DefinitionParser.IsQueueName(queue))
        {
            return Problems.BadRequest("Invalid queue name", "Queue names are 1-63 characters: letters, digits, '-', '_' or '.', starting with a letter or digit.");
        }
        var (document, problem) = await JsonBody.ReadAsync(request, cancellationToken);
        if (problem is not null)
        {
            return problem;
        }
        using (document)
        {
            var root = document!.RootElement;
            var items = root.ValueKind == JsonValueKind.Array ? root.EnumerateArray().ToList() : [root];
            for (var i = 0; i < items.Count; i++)
            {
                if (RunStarter.ValidateRecords(items[i]) is { } invalid)
                {
                    var where = root.ValueKind == JsonValueKind.Array ? $"message [{i}]: " : "";
                    return Problems.BadRequest("Invalid queue message", $"{where}{invalid}. A message is a JSON object (one record) or an array of objects.");
                }
            }
            if (items.Count == 0)
            {
                return Problems.BadRequest("No messages", "The body is an empty array; send one message object or an array of them.");
            }
            var listeners = await messages.PostAsync(tenant.Id, queue, items, cancellationToken);
            return TypedResults.Accepted((string?)null, new QueuePostedDto(queue, items.Count, listeners));
        }
    }
}
