namespace Saas.Pipelines.Definitions;

/// <summary>
/// Something a definition names that lives in the tenant's account (a secret, a reference table, a queue):
/// checked when the pipeline is published, so a typo fails at publish time instead of on the first record.
/// </summary>
public sealed record ResourceReference(string Path, string Kind, string Name);

public static class ResourceKinds
{
    public const string Secret = "secret";
    public const string Table = "table";
}

/// <summary>A compiled step that names tenant resources.</summary>
public interface IReferencesResources
{
    IReadOnlyList<ResourceReference> References { get; }
}
