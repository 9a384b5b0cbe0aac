using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Metering;

namespace Saas.Web.Components.Platform;

/// <summary>
/// A plan's prices as the platform pages edit them: a base fee and, per meter, the included quantity, the
/// unit price and (token meters) per-model prices written "gpt-4o=5, gpt-4o-mini=0.6". Checked by
/// <see cref="PlanPrices.Parse"/>, the API's own reader, so errors carry the API's paths.
/// </summary>
public sealed class PriceForm
{
    public decimal? BaseFeeUsd { get; set; }

    public Dictionary<string, MeterForm> Meters { get; } = PlanPrices.KnownMeters.ToDictionary(m => m, _ => new MeterForm(), StringComparer.Ordinal);

    public sealed class MeterForm
    {
        public long? Included { get; set; }
        public decimal? Price { get; set; }
        public string Models { get; set; } = "";

        public bool IsSet => Included is not null || Price is not null || Models.Trim().Length > 0;
    }

    public (PlanPrices? Prices, IReadOnlyList<DefinitionError> Errors) Read()
    {
        var errors = new List<DefinitionError>();
        var meters = new JsonObject();
        foreach (var (name, form) in Meters.Where(m => m.Value.IsSet))
        {
            var tokens = PlanPrices.IsTokenMeter(name);
            var meter = new JsonObject { ["included"] = form.Included ?? 0, [tokens ? "pricePerMillionUsd" : "unitPriceUsd"] = form.Price ?? 0 };
            if (tokens)
            {
                var models = new JsonObject();
                foreach (var pair in form.Models.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                {
                    var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
                    if (parts.Length == 2 && parts[0].Length > 0 && decimal.TryParse(parts[1], NumberStyles.Number, CultureInfo.InvariantCulture, out var price))
                    {
                        models[parts[0]] = price;
                    }
                    else
                    {
                        errors.Add(new($"meters.{name}.models", $"'{pair}' is not model=price; write e.g. gpt-4o=5, gpt-4o-mini=0.6 (USD per million tokens)"));
                    }
                }
                meter["models"] = models;
            }
            else if (form.Models.Trim().Length > 0)
            {
                errors.Add(new($"meters.{name}.models", "only the token meters have per-model prices"));
            }
            meters[name] = meter;
        }
        if (errors.Count > 0)
        {
            return (null, errors);
        }
        using var document = JsonDocument.Parse(new JsonObject { ["baseFeeUsd"] = BaseFeeUsd ?? 0, ["meters"] = meters }.ToJsonString());
        return PlanPrices.Parse(document.RootElement);
    }

    public static PriceForm From(PlanPrices prices)
    {
        var form = new PriceForm { BaseFeeUsd = prices.BaseFeeUsd };
        foreach (var (name, price) in prices.Meters)
        {
            if (form.Meters.TryGetValue(name, out var meter))
            {
                meter.Included = price.Included;
                meter.Price = price.UnitPriceUsd;
                meter.Models = string.Join(", ", price.ModelPricesUsd.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value.ToString(CultureInfo.InvariantCulture)}"));
            }
        }
        return form;
    }

    /// <summary>One line a reader can take in: "$49/month; step_executions: 1,000 included, then $0.001 …".</summary>
    public static string Describe(PlanPrices prices) =>
        $"${prices.BaseFeeUsd.ToString("0.##", CultureInfo.InvariantCulture)}/month" + string.Concat(prices.Meters.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m =>
            $"; {m.Key}: {m.Value.Included.ToString("N0", CultureInfo.InvariantCulture)} included, then ${m.Value.UnitPriceUsd.ToString("0.######", CultureInfo.InvariantCulture)}"
            + (PlanPrices.IsTokenMeter(m.Key) ? " per million" : " each")
            + (m.Value.ModelPricesUsd.Count > 0 ? $" ({string.Join(", ", m.Value.ModelPricesUsd.OrderBy(p => p.Key, StringComparer.Ordinal).Select(p => $"{p.Key} ${p.Value.ToString("0.######", CultureInfo.InvariantCulture)}"))})" : "")));

    public static string Label(string meter) => meter switch
    {
        Saas.Pipelines.Metering.Meters.StepExecutions => "Step executions",
        Saas.Pipelines.Metering.Meters.GatewayRequests => "Gateway requests",
        Saas.Pipelines.Metering.Meters.LlmInputTokens => "LLM input tokens",
        Saas.Pipelines.Metering.Meters.LlmOutputTokens => "LLM output tokens",
        _ => meter,
    };
}
