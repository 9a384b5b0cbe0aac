using Saas.Pipelines.Definitions;
using Saas.Pipelines.Steps.Enrich;
using Saas.Pipelines.Steps.Ai;
using Saas.Pipelines.Steps.Transform;

namespace Saas.Pipelines.Steps;

/// <summary>Every step type by name. Compiling a step validates its configuration.</summary>
public static class StepCatalogue
{
    private static readonly Dictionary<string, Func<JsonObjectReader, IStep?>> Compilers = new(StringComparer.Ordinal)
    {
        ["map"] = MapStep.Compile,
        ["filter"] = FilterStep.Compile,
        ["select"] = SelectStep.Compile,
        ["rename"] = RenameStep.Compile,
        ["drop"] = DropStep.Compile,
        ["http"] = HttpStep.Compile,
        ["lookup"] = LookupStep.Compile,
        ["llm"] = LlmStep.Compile,
        ["embed"] = EmbedStep.Compile,
    };

    public static IReadOnlyCollection<string> Types => Compilers.Keys;

    internal static IStep? Compile(string type, JsonObjectReader step) =>
        Compilers.TryGetValue(type, out var compile) ? compile(step) : null;
}
