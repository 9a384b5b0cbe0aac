using System.Text.Json;
using System.Text.Json.Nodes;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Metering;

namespace Saas.Pipelines.Billing;

/// <summary>
/// A meter's price in a plan: a quantity included each month, then a unit price. For the LLM token
/// meters the price is per million tokens, with a price per model and a model-less default.
/// </summary>
public sealed record MeterPrice(long Included, decimal UnitPriceUsd, IReadOnlyDictionary<string, decimal> ModelPricesUsd)
{
    public decimal PriceOf(string? model) => model is not null && ModelPricesUsd.TryGetValue(model, out var price) ? price : UnitPriceUsd;
}

/// <summary>What one version of a plan charges: a monthly base fee and a price per meter (unpriced meters are free).</summary>
public sealed record PlanPrices(decimal BaseFeeUsd, IReadOnlyDictionary<string, MeterPrice> Meters)
{
    public static IReadOnlyList<string> KnownMeters { get; } = [Metering.Meters.StepExecutions, Metering.Meters.GatewayRequests, Metering.Meters.LlmInputTokens, Metering.Meters.LlmOutputTokens];

    public static bool IsTokenMeter(string meter) => meter is Metering.Meters.LlmInputTokens or Metering.Meters.LlmOutputTokens;

    /// <summary>Units a price is quoted for: a million tokens, or one event.</summary>
    public static decimal UnitSize(string meter) => IsTokenMeter(meter) ? 1_000_000m : 1m;

    public static PlanPrices Free { get; } = new(0, new Dictionary<string, MeterPrice>());

    /// <summary>
    /// Prices one month's usage up to some moment. A meter's included quantity is shared by its models
    /// in proportion to their quantities, so each (meter, model) line carries its part of the charge.
    /// </summary>
    public IReadOnlyList<ChargeLine> PriceUsage(IEnumerable<UsageQuantity> usage)
    {
        var lines = new List<ChargeLine>();
        foreach (var meter in usage.Where(u => u.Quantity > 0).GroupBy(u => u.Meter).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var total = meter.Sum(u => u.Quantity);
            Meters.TryGetValue(meter.Key, out var price);
            var billableShare = price is null || total <= price.Included ? 0m : (decimal)(total - price.Included) / total;
            foreach (var model in meter.GroupBy(u => u.Model).OrderBy(g => g.Key, StringComparer.Ordinal))
            {
                var quantity = model.Sum(u => u.Quantity);
                var unitPrice = price?.PriceOf(model.Key) ?? 0m;
                var amount = quantity * billableShare * unitPrice / UnitSize(meter.Key);
                lines.Add(new ChargeLine(meter.Key, model.Key, quantity, unitPrice, amount));
            }
        }
        return lines;
    }

    public JsonObject ToJson()
    {
        var meters = new JsonObject();
        foreach (var (name, price) in Meters.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            var meter = new JsonObject { ["included"] = price.Included };
            if (IsTokenMeter(name))
            {
                meter["pricePerMillionUsd"] = price.UnitPriceUsd;
                meter["models"] = new JsonObject(price.ModelPricesUsd.OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => KeyValuePair.Create(m.Key, (JsonNode?)m.Value)));
            }
            else
            {
                meter["unitPriceUsd"] = price.UnitPriceUsd;
            }
            meters[name] = meter;
        }
        return new JsonObject { ["baseFeeUsd"] = BaseFeeUsd, ["meters"] = meters };
    }

    /// <summary>Reads <c>{"baseFeeUsd": 49, "meters": {"step_executions": {"included": 1000, "unitPriceUsd": 0.001}, "llm_input_tokens": {"pricePerMillionUsd": 3, "models": {"gpt-4o": 5}}}}</c>.</summary>
    /// <returns>The prices, or every problem with its path.</returns>
    public static (PlanPrices? Prices, IReadOnlyList<DefinitionError> Errors) Parse(JsonElement body)
    {
        var errors = new List<DefinitionError>();
        var baseFee = 0m;
        var meters = new Dictionary<string, MeterPrice>(StringComparer.Ordinal);
        if (body.TryGetProperty("baseFeeUsd", out var fee) && !TryMoney(fee, out baseFee))
        {
            errors.Add(new DefinitionError("baseFeeUsd", "must be a number of USD, zero or more (e.g. 49 or 9.99)"));
        }
        if (body.TryGetProperty("meters", out var meterList))
        {
            if (meterList.ValueKind != JsonValueKind.Object)
            {
                errors.Add(new DefinitionError("meters", "must be an object of meter name → price"));
            }
            else
            {
                foreach (var meter in meterList.EnumerateObject())
                {
                    if (ParseMeter(meter, errors) is { } price)
                    {
                        meters[meter.Name] = price;
                    }
                }
            }
        }
        return errors.Count > 0 ? (null, errors) : (new PlanPrices(baseFee, meters), errors);
    }

    private static MeterPrice? ParseMeter(JsonProperty meter, List<DefinitionError> errors)
    {
        var path = $"meters.{meter.Name}";
        if (!KnownMeters.Contains(meter.Name))
        {
            errors.Add(new DefinitionError(path, $"unknown meter; the meters are {string.Join(", ", KnownMeters)}"));
            return null;
        }
        if (meter.Value.ValueKind != JsonValueKind.Object)
        {
            errors.Add(new DefinitionError(path, "must be an object such as {\"included\": 1000, \"unitPriceUsd\": 0.001}"));
            return null;
        }
        var tokens = IsTokenMeter(meter.Name);
        var priceName = tokens ? "pricePerMillionUsd" : "unitPriceUsd";
        var count = errors.Count;
        long included = 0;
        var unitPrice = 0m;
        var models = new Dictionary<string, decimal>(StringComparer.Ordinal);
        foreach (var property in meter.Value.EnumerateObject())
        {
            switch (property.Name)
            {
                case "included":
                    if (property.Value.ValueKind != JsonValueKind.Number || !property.Value.TryGetInt64(out included) || included < 0)
                    {
                        errors.Add(new DefinitionError($"{path}.included", "must be a whole number of units, zero or more"));
                    }
                    break;
                case var name when name == priceName:
                    if (!TryMoney(property.Value, out unitPrice))
                    {
                        errors.Add(new DefinitionError($"{path}.{priceName}", "must be a number of USD, zero or more"));
                    }
                    break;
                case "models" when tokens && property.Value.ValueKind == JsonValueKind.Object:
                    foreach (var model in property.Value.EnumerateObject())
                    {
                        if (TryMoney(model.Value, out var modelPrice))
                        {
                            models[model.Name] = modelPrice;
                        }
                        else
                        {
                            errors.Add(new DefinitionError($"{path}.models.{model.Name}", "must be a price in USD per million tokens, zero or more"));
                        }
                    }
                    break;
                default:
                    errors.Add(new DefinitionError($"{path}.{property.Name}", tokens
                        ? "unknown property; a token meter has included, pricePerMillionUsd and models (model name → USD per million tokens)"
                        : "unknown property; this meter has included and unitPriceUsd"));
                    break;
            }
        }
        return errors.Count > count ? null : new MeterPrice(included, unitPrice, models);
    }

    private static bool TryMoney(JsonElement value, out decimal usd)
    {
        usd = 0;
        return value.ValueKind == JsonValueKind.Number && value.TryGetDecimal(out usd) && usd >= 0 && usd < 1_000_000_000m;
    }
}

/// <summary>What one (meter, model) costs: its quantity, the unit price applied and the amount after the included quantity.</summary>
public sealed record ChargeLine(string Meter, string? Model, long Quantity, decimal UnitPriceUsd, decimal AmountUsd);
