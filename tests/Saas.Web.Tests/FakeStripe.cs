using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;

namespace Saas.Web.Tests;

/// <summary>
/// A local stand-in for Stripe's API on 127.0.0.1, speaking its wire format: form-encoded requests,
/// JSON objects with <c>id</c> and <c>object</c>, lists, errors as <c>{"error": {"type", "message"}}</c>,
/// and Idempotency-Key replays. Failures (429, 500) can be injected into meter event calls.
/// </summary>
public sealed class FakeStripe : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<int> _failures = new();
    private readonly ConcurrentDictionary<string, (int Status, string Body)> _idempotent = new();
    private readonly object _lock = new();
    private int _sequence;

    private FakeStripe(WebApplication app) => _app = app;

    public string ApiBase => _app.Urls.First();

    public ConcurrentDictionary<string, JsonObject> Customers { get; } = new();

    /// <summary>How long creating a customer takes: a slow Stripe widens the window in which two relays could send one command.</summary>
    public TimeSpan CustomerLatency { get; set; }

    /// <summary>Meter events by identifier, each with how many times it was created (must stay 1).</summary>
    public ConcurrentDictionary<string, (string EventName, string Customer, long Value, long Timestamp, int Created)> MeterEvents { get; } = new();

    public ConcurrentDictionary<string, JsonObject> Meters { get; } = new();

    public ConcurrentDictionary<string, JsonObject> Prices { get; } = new();

    public ConcurrentDictionary<string, JsonObject> Subscriptions { get; } = new();

    /// <summary>Updates of subscriptions, with their proration behaviour.</summary>
    public ConcurrentBag<(string Subscription, string? ProrationBehavior)> SubscriptionUpdates { get; } = [];

    /// <summary>Invoices a test puts here, as Stripe would have made them.</summary>
    public ConcurrentDictionary<string, JsonObject> Invoices { get; } = new();

    public void AddInvoice(string customer, string number, string status, long totalCents, long amountDueCents)
    {
        var now = DateTimeOffset.UtcNow;
        var id = NewId("in");
        Invoices[id] = new JsonObject
        {
            ["id"] = id, ["object"] = "invoice", ["customer"] = customer, ["number"] = number, ["status"] = status, ["currency"] = "usd",
            ["total"] = totalCents, ["amount_due"] = amountDueCents, ["amount_paid"] = totalCents - amountDueCents, ["created"] = now.ToUnixTimeSeconds(),
            ["period_start"] = now.AddMonths(-1).ToUnixTimeSeconds(), ["period_end"] = now.ToUnixTimeSeconds(),
            ["hosted_invoice_url"] = $"https://invoice.stripe.test/i/{id}", ["livemode"] = false,
        };
    }

    public int FailuresAnswered;

    /// <summary>The next meter event calls answer these statuses, in order.</summary>
    public void FailNext(params int[] statuses)
    {
        foreach (var status in statuses)
        {
            _failures.Enqueue(status);
        }
    }

    public static async Task<FakeStripe> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(["--urls=http://127.0.0.1:0", "--Logging:LogLevel:Default=Warning"]);
        var app = builder.Build();
        var fake = new FakeStripe(app);
        app.MapPost("/v1/customers", async (HttpContext context) =>
        {
            await Task.Delay(fake.CustomerLatency);
            await fake.AnswerAsync(context, form =>
        {
            var customer = new JsonObject { ["id"] = fake.NewId("cus"), ["object"] = "customer", ["description"] = form.GetValueOrDefault("description"), ["livemode"] = false };
            fake.Customers[customer["id"]!.GetValue<string>()] = customer;
            return (200, customer);
        });
        });
        app.MapPost("/v1/billing/meter_events", (HttpContext context) => fake.AnswerAsync(context, form =>
        {
            if (fake._failures.TryDequeue(out var status))
            {
                Interlocked.Increment(ref fake.FailuresAnswered);
                return (status, Error(status == 429 ? "rate_limit_error" : "api_error", status == 429 ? "Too many requests" : "An unknown error occurred", null));
            }
            var identifier = form["identifier"];
            var value = long.Parse(form["payload[value]"], CultureInfo.InvariantCulture);
            lock (fake._lock)
            {
                if (fake.MeterEvents.TryGetValue(identifier, out var existing))
                {
                    fake.MeterEvents[identifier] = existing with { Created = existing.Created + 1 };
                    return (400, Error("invalid_request_error", $"An event with identifier {identifier} already exists.", "resource_already_exists"));
                }
                fake.MeterEvents[identifier] = (form["event_name"], form["payload[stripe_customer_id]"], value, long.Parse(form["timestamp"], CultureInfo.InvariantCulture), 1);
            }
            return (200, new JsonObject
            {
                ["object"] = "billing.meter_event", ["event_name"] = form["event_name"], ["identifier"] = identifier, ["livemode"] = false,
                ["created"] = DateTimeOffset.UtcNow.ToUnixTimeSeconds(), ["timestamp"] = long.Parse(form["timestamp"], CultureInfo.InvariantCulture),
                ["payload"] = new JsonObject { ["stripe_customer_id"] = form["payload[stripe_customer_id]"], ["value"] = form["payload[value]"] },
            });
        }));
        app.MapGet("/v1/billing/meters", () => Results.Json(List("/v1/billing/meters", fake.Meters.Values)));
        app.MapPost("/v1/billing/meters", (HttpContext context) => fake.AnswerAsync(context, form =>
        {
            var meter = new JsonObject { ["id"] = fake.NewId("mtr"), ["object"] = "billing.meter", ["event_name"] = form["event_name"], ["display_name"] = form["display_name"], ["status"] = "active", ["livemode"] = false };
            fake.Meters[meter["id"]!.GetValue<string>()] = meter;
            return (200, meter);
        }));
        app.MapGet("/v1/billing/meters/{id}/event_summaries", (string id, string customer, long start_time, long end_time) =>
        {
            var eventName = fake.Meters[id]["event_name"]!.GetValue<string>();
            var total = fake.MeterEvents.Values.Where(e => e.EventName == eventName && e.Customer == customer && e.Timestamp >= start_time && e.Timestamp < end_time).Sum(e => e.Value);
            var summary = new JsonObject { ["id"] = fake.NewId("mtrsum"), ["object"] = "billing.meter_event_summary", ["aggregated_value"] = total, ["start_time"] = start_time, ["end_time"] = end_time, ["meter"] = id, ["livemode"] = false };
            return Results.Json(List($"/v1/billing/meters/{id}/event_summaries", [summary]));
        });
        app.MapGet("/v1/prices", (HttpContext context) =>
        {
            var keys = context.Request.Query["lookup_keys[0]"].Concat(context.Request.Query["lookup_keys[]"]).ToHashSet();
            return Results.Json(List("/v1/prices", fake.Prices.Values.Where(p => keys.Contains(p["lookup_key"]!.GetValue<string>()))));
        });
        app.MapPost("/v1/prices", (HttpContext context) => fake.AnswerAsync(context, form =>
        {
            var price = new JsonObject
            {
                ["id"] = fake.NewId("price"), ["object"] = "price", ["lookup_key"] = form["lookup_key"], ["currency"] = form["currency"],
                ["unit_amount_decimal"] = form.GetValueOrDefault("unit_amount_decimal"), ["active"] = true, ["livemode"] = false,
                ["recurring"] = new JsonObject { ["interval"] = form["recurring[interval]"], ["usage_type"] = form.GetValueOrDefault("recurring[usage_type]") ?? "licensed", ["meter"] = form.GetValueOrDefault("recurring[meter]") },
            };
            fake.Prices[price["id"]!.GetValue<string>()] = price;
            return (200, price);
        }));
        app.MapPost("/v1/subscriptions", (HttpContext context) => fake.AnswerAsync(context, form =>
        {
            var id = fake.NewId("sub");
            var items = form.Where(f => f.Key.StartsWith("items[", StringComparison.Ordinal) && f.Key.EndsWith("][price]", StringComparison.Ordinal))
                .Select(f => (JsonNode)new JsonObject { ["id"] = fake.NewId("si"), ["object"] = "subscription_item", ["subscription"] = id, ["price"] = fake.Prices[f.Value].DeepClone() }).ToArray();
            var subscription = new JsonObject
            {
                ["id"] = id, ["object"] = "subscription", ["customer"] = form["customer"], ["status"] = "active", ["livemode"] = false,
                ["items"] = new JsonObject { ["object"] = "list", ["data"] = new JsonArray(items), ["has_more"] = false, ["url"] = $"/v1/subscription_items?subscription={id}" },
            };
            fake.Subscriptions[id] = subscription;
            return (200, subscription);
        }));
        app.MapGet("/v1/subscriptions/{id}", (string id) =>
            fake.Subscriptions.TryGetValue(id, out var subscription) ? Results.Json(subscription) : Results.Json(Error("invalid_request_error", $"No such subscription: '{id}'", "resource_missing"), statusCode: 404));
        app.MapPost("/v1/subscriptions/{id}", (string id, HttpContext context) => fake.AnswerAsync(context, form =>
        {
            if (!fake.Subscriptions.TryGetValue(id, out var subscription))
            {
                return (404, Error("invalid_request_error", $"No such subscription: '{id}'", "resource_missing"));
            }
            // Recorded before the items change: a test that sees the new items must find the update too.
            fake.SubscriptionUpdates.Add((id, form.GetValueOrDefault("proration_behavior")));
            var items = subscription["items"]!["data"]!.AsArray();
            for (var i = 0; form.ContainsKey($"items[{i}][id]") || form.ContainsKey($"items[{i}][price]"); i++)
            {
                if (form.GetValueOrDefault($"items[{i}][deleted]") == "true")
                {
                    var gone = items.First(item => item!["id"]!.GetValue<string>() == form[$"items[{i}][id]"]);
                    items.Remove(gone);
                }
                else if (form.TryGetValue($"items[{i}][price]", out var price))
                {
                    items.Add(new JsonObject { ["id"] = fake.NewId("si"), ["object"] = "subscription_item", ["subscription"] = id, ["price"] = fake.Prices[price].DeepClone() });
                }
            }
            return (200, subscription);
        }));
        app.MapGet("/v1/invoices", (string customer) =>
            Results.Json(List("/v1/invoices", fake.Invoices.Values.Where(i => i["customer"]!.GetValue<string>() == customer).OrderByDescending(i => i["created"]!.GetValue<long>()))));
        app.MapPost("/v1/billing_portal/sessions", (HttpContext context) => fake.AnswerAsync(context, form =>
            (200, new JsonObject { ["id"] = fake.NewId("bps"), ["object"] = "billing_portal.session", ["customer"] = form["customer"], ["return_url"] = form["return_url"], ["url"] = $"https://billing.stripe.test/p/session/{form["customer"]}", ["livemode"] = false })));
        app.MapPost("/v1/checkout/sessions", (HttpContext context) => fake.AnswerAsync(context, form =>
            (200, new JsonObject { ["id"] = fake.NewId("cs"), ["object"] = "checkout.session", ["customer"] = form["customer"], ["mode"] = form["mode"], ["url"] = $"https://checkout.stripe.test/c/pay/{form["customer"]}", ["livemode"] = false })));
        await app.StartAsync();
        return fake;
    }

    /// <summary>A webhook's Stripe-Signature header, made the way Stripe makes it: HMAC-SHA256 of "{t}.{payload}" with the endpoint's secret.</summary>
    public static string Sign(string payload, string secret, DateTimeOffset at)
    {
        var timestamp = at.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture);
        var signature = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes($"{timestamp}.{payload}"));
        return $"t={timestamp},v1={Convert.ToHexStringLower(signature)}";
    }

    private async Task AnswerAsync(HttpContext context, Func<Dictionary<string, string>, (int Status, JsonObject Body)> handle)
    {
        if (context.Request.Headers.Authorization.ToString() != "Bearer sk_test_fake")
        {
            await WriteAsync(context, 401, Error("invalid_request_error", "Invalid API Key provided", null).ToJsonString());
            return;
        }
        var form = (await context.Request.ReadFormAsync()).ToDictionary(f => f.Key, f => f.Value.ToString());
        var key = context.Request.Headers["Idempotency-Key"].ToString();
        if (key.Length > 0 && _idempotent.TryGetValue($"{context.Request.Path}|{key}", out var replay))
        {
            await WriteAsync(context, replay.Status, replay.Body);
            return;
        }
        var (status, body) = handle(form);
        if (key.Length > 0 && status is >= 200 and < 300)
        {
            _idempotent[$"{context.Request.Path}|{key}"] = (status, body.ToJsonString());
        }
        await WriteAsync(context, status, body.ToJsonString());
    }

    private static Task WriteAsync(HttpContext context, int status, string body)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        context.Response.Headers["Request-Id"] = $"req_{Guid.NewGuid():N}";
        return context.Response.WriteAsync(body);
    }

    private static JsonObject Error(string type, string message, string? code) =>
        new() { ["error"] = new JsonObject { ["type"] = type, ["message"] = message, ["code"] = code } };

    private static JsonObject List(string url, IEnumerable<JsonObject> items) =>
        new() { ["object"] = "list", ["data"] = new JsonArray(items.Select(i => (JsonNode)i.DeepClone()).ToArray()), ["has_more"] = false, ["url"] = url };

    private string NewId(string prefix) => $"{prefix}_{Interlocked.Increment(ref _sequence):D6}{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 20, prefix.Length + 39)];

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
