namespace Saas.Web.Tests;

/// <summary>
/// A contract test against a real service that cannot run here: it runs when the environment holds
/// the service's credentials and is reported as skipped, naming them, when it does not.
/// </summary>
public sealed class EnvironmentFactAttribute : FactAttribute
{
    public EnvironmentFactAttribute(params string[] variables)
    {
        var missing = variables.Where(v => string.IsNullOrEmpty(Environment.GetEnvironmentVariable(v))).ToList();
        if (missing.Count > 0)
        {
            Skip = $"contract test: set {string.Join(", ", missing)} to run it against the real service";
        }
    }
}
