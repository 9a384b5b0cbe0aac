namespace Saas.Pipelines;

/// <summary>Identifiers that say what they name and sort by creation time.</summary>
public static class Ids
{
    public static string New(string prefix) => $"{prefix}_{Guid.CreateVersion7():N}";
}
