using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
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
/// </summary>
public static class GatewayLimits
{
    public const string Policy = "gateway";

    public static IServiceCollection AddGatewayLimits(this IServiceCollection services)
    {
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<TenantWindows>();
        services.AddSingleton<TokenLimits>();
        services.AddSingleton<ResponseCache>();
        services.AddSingleton<GatewayMeter>();
        services.AddHostedService(provider => provider.GetRequiredService<GatewayMeter>());
        services.AddRateLimiter(limiter =>
        {
            limiter.AddPolicy(Policy, context =>
            {
                var options = context.RequestServices.GetRequiredService<IOptions<GatewayOptions>>().Value;
                var tenants = context.RequestServices.GetRequiredService<TenantWindows>();
                var tenant = context.RequestServices.GetRequiredService<CurrentTenant>();
                return RateLimitPartition.Get($"{tenant.Id}/{tenant.KeyId}", _ => new PerKeyAndTenantLimiter(
                    Window(options.RequestsPerMinutePerKey),
                    tenants.For(tenant.Id, options.RequestsPerMinutePerTenant)));
            });
            limiter.OnRejected = async (rejected, cancellationToken) =>
            {
                var retryAfter = rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var wait) ? wait : TimeSpan.FromSeconds(1);
                rejected.HttpContext.Response.StatusCode = StatusCodes.Status429TooManyRequests;
                rejected.HttpContext.Response.Headers.RetryAfter = Math.Max(1, (int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
                await rejected.HttpContext.Response.WriteAsJsonAsync(new
                {
                    error = new { message = $"Rate limit reached: retry after {retryAfter.TotalSeconds:F0} s (limits per API key and per tenant, Flowgate:Gateway).", type = "rate_limit_error", code = "rate_limit_exceeded" },
                }, cancellationToken);
            };
        });
        return services;
    }

    /// <summary>One window per tenant, shared by all its keys.</summary>
    private sealed class TenantWindows
    {
        private readonly System.Collections.Concurrent.ConcurrentDictionary<string, RateLimiter> _windows = new(StringComparer.Ordinal);

        public RateLimiter For(string tenantId, int perMinute) => _windows.GetOrAdd(tenantId, _ => Window(perMinute));
    }

    private static SlidingWindowRateLimiter Window(int perMinute) => new(new SlidingWindowRateLimiterOptions
    {
        PermitLimit = perMinute,
        Window = TimeSpan.FromMinutes(1),
        SegmentsPerWindow = 6,
        QueueLimit = 0,
        AutoReplenishment = true,
    });

    /// <summary>Takes a permit from the key's limiter and from the tenant's; both must grant it.</summary>
    private sealed class PerKeyAndTenantLimiter(RateLimiter key, RateLimiter tenant) : RateLimiter
    {
        public override TimeSpan? IdleDuration => key.IdleDuration;

        public override RateLimiterStatistics? GetStatistics() => key.GetStatistics();

        protected override RateLimitLease AttemptAcquireCore(int permitCount)
        {
            var byKey = key.AttemptAcquire(permitCount);
            if (!byKey.IsAcquired)
            {
                return byKey;
            }
            var byTenant = tenant.AttemptAcquire(permitCount);
            if (!byTenant.IsAcquired)
            {
                byKey.Dispose();
            }
            return byTenant;
        }

        protected override ValueTask<RateLimitLease> AcquireAsyncCore(int permitCount, CancellationToken cancellationToken) =>
            ValueTask.FromResult(AttemptAcquireCore(permitCount));
    }
}
