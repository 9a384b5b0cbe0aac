using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;
using Saas.Web.Tenancy;

namespace Saas.Web.Gateway;

/// <summary>Configuration section <c>Flowgate:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "Flowgate:Gateway";

    [Range(1, 1_000_000)]
    public int RequestsPerMinutePerKey { get; set; } = 3_000;

    [Range(1, 10_000_000)]
    public int RequestsPerMinutePerTenant { get; set; } = 10_000;

    /// <summary>Off when unset: counting tokens before each call costs a little latency.</summary>
    [Range(1, long.MaxValue)]
    public long? TokensPerMinutePerKey { get; set; }

    [Range(1, long.MaxValue)]
    public long? TokensPerMinutePerTenant { get; set; }

    /// <summary>Entries the response cache keeps per node, across tenants.</summary>
    [Range(0, 10_000_000)]
    public int CacheEntries { get; set; } = 10_000;
}

/// <summary>
/// Requests per minute on the gateway, per API key and per tenant (both must allow the request), so
/// one runaway client cannot use up its tenant's share and one tenant cannot crowd out the others.
/// A refusal is OpenAI's 429 error with Retry-After, which the OpenAI SDKs retry on their own.
/// Both ways into the gateway use it: the fast path for API keys and the endpoint filter for tokens.
/// </summary>
public sealed class GatewayRequestLimits(IOptions<GatewayOptions> options)
{
    private readonly ConcurrentDictionary<string, RateLimiter> _keys = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, RateLimiter> _tenants = new(StringComparer.Ordinal);

    /// <returns>Null when the request may go; otherwise how long the caller should wait.</returns>
    public TimeSpan? Refusal(string tenantId, string keyId)
    {
        using (var byKey = _keys.GetOrAdd(keyId, static (_, perMinute) => Window(perMinute), options.Value.RequestsPerMinutePerKey).AttemptAcquire())
        {
            if (!byKey.IsAcquired)
            {
                return RetryAfter(byKey);
            }
        }
        using var byTenant = _tenants.GetOrAdd(tenantId, static (_, perMinute) => Window(perMinute), options.Value.RequestsPerMinutePerTenant).AttemptAcquire();
        return byTenant.IsAcquired ? null : RetryAfter(byTenant);
    }

    public static Task WriteRefusalAsync(HttpContext context, TimeSpan retryAfter)
    {
        context.Response.StatusCode = StatusCodes.Status429TooManyRequests;
        context.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        return context.Response.WriteAsJsonAsync(new
        {
            error = new { message = $"Rate limit reached: retry after {retryAfter.TotalSeconds:F0} s (limits per API key and per tenant, Flowgate:Gateway).", type = "rate_limit_error", code = "rate_limit_exceeded" },
        });
    }

    private static TimeSpan RetryAfter(RateLimitLease refused) =>
        refused.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);

    private static SlidingWindowRateLimiter Window(int perMinute) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = perMinute,
        Window = TimeSpan.FromMinutes(1),
        SegmentsPerWindow = 6,
        QueueLimit = 0,
        AutoReplenishment = true,
    });
}

public static class GatewayLimits
{
    public static IServiceCollection AddGatewayLimits(this IServiceCollection services)
    {
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<GatewayRequestLimits>();
        services.AddSingleton<TokenLimits>();
        services.AddSingleton<ResponseCache>();
        services.AddSingleton<GatewayMeter>();
        services.AddHostedService(provider => provider.GetRequiredService<GatewayMeter>());
        return services;
    }

    /// <summary>The request limits on the gateway's endpoints, for callers that came through authentication (OAuth tokens).</summary>
    public static RouteGroupBuilder RequireGatewayLimits(this RouteGroupBuilder group) => group.AddEndpointFilter(async (invocation, next) =>
    {
        var context = invocation.HttpContext;
        var tenant = context.RequestServices.GetRequiredService<CurrentTenant>();
        if (context.RequestServices.GetRequiredService<GatewayRequestLimits>().Refusal(tenant.Id, tenant.KeyId!) is { } wait)
        {
            await GatewayRequestLimits.WriteRefusalAsync(context, wait);
            return Results.Empty;
        }
        return await next(invocation);
    });
}
