using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.AspNetCore.Diagnostics;
using Saas.Pipelines.Limits;
using Saas.Pipelines.Triggers;
using Saas.Web.Tenancy;

namespace Saas.Web.Limits;

/// <summary>
/// Requests per second on the tenant API, per tenant (after authentication), as a token bucket: a tenant
/// may send <see cref="TenantLimitValues.RequestBurst"/> requests at once and
/// <see cref="TenantLimitValues.RequestsPerSecond"/> on average. The gateway has its own per-minute
/// limits (<see cref="Gateway.GatewayLimits"/>) in OpenAI's error shape.
/// </summary>
public static class TenantApiLimits
{
    public static IServiceCollection AddTenantApiLimits(this IServiceCollection services)
    {
        services.AddSingleton<TenantRequestBuckets>();
        services.AddExceptionHandler<PendingWorkRefusedHandler>();
        return services;
    }

    /// <summary>Refuses a tenant's request with 429 once its bucket is empty; runs after authentication, before the handler.</summary>
    public static RouteGroupBuilder RequireTenantRateLimit(this RouteGroupBuilder group) =>
        group.AddEndpointFilter(async (context, next) =>
        {
            var services = context.HttpContext.RequestServices;
            var tenant = services.GetRequiredService<CurrentTenant>();
            if (tenant.IsSet && !services.GetRequiredService<TenantRequestBuckets>().TryTake(tenant.Id, out var limit, out var retryAfter))
            {
                var seconds = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds));
                context.HttpContext.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
                return TypedResults.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many requests",
                    detail: $"This tenant may make {limit.RequestsPerSecond:N0} requests per second to the tenant API (bursts of up to {limit.RequestBurst:N0}); " +
                        $"retry after {seconds} s, spread requests out, or ask the platform operator to raise the tenant's requestsPerSecond.",
                    extensions: new Dictionary<string, object?>
                    {
                        ["limit"] = "requestsPerSecond",
                        ["requestsPerSecond"] = limit.RequestsPerSecond,
                        ["requestBurst"] = limit.RequestBurst,
                        ["retryAfterSeconds"] = seconds,
                    });
            }
            return await next(context);
        });
}

/// <summary>One token bucket per tenant, refilled from the elapsed time when taken from (no timers).</summary>
public sealed class TenantRequestBuckets(TenantLimits limits, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, TokenBucket> _buckets = new(StringComparer.Ordinal);

    public bool TryTake(string tenantId, out TenantLimitValues limit, out TimeSpan retryAfter)
    {
        limit = limits.For(tenantId);
        var now = time.GetTimestamp();
        var bucket = _buckets.GetOrAdd(tenantId, static (_, start) => new TokenBucket(start.Burst, start.Now), (Burst: limit.RequestBurst, Now: now));
        return bucket.TryReserve(1, now, time.TimestampFrequency, limit.RequestsPerSecond, limit.RequestBurst, TimeSpan.Zero, out _, out retryAfter);
    }
}

/// <summary>New work refused by the tenant's limits answers 429 (or 413) wherever it was started from.</summary>
public sealed class PendingWorkRefusedHandler : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (exception is not NewWorkRefusedException refused)
        {
            return false;
        }
        var refusal = RequestRefusal.Of(refused);
        if (refusal.RetryAfterSeconds is { } seconds)
        {
            context.Response.Headers.RetryAfter = seconds.ToString(CultureInfo.InvariantCulture);
        }
        await Api.Problems.From(refusal).ExecuteAsync(context);
        return true;
    }
}
