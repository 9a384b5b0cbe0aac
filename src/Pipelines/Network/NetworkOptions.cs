using System.ComponentModel.DataAnnotations;
using System.Net;
using Microsoft.Extensions.Options;

namespace Saas.Pipelines.Network;

/// <summary>Configuration section <c>Flowgate:Network</c>: what outbound HTTP calls may reach.</summary>
public sealed class NetworkOptions
{
    public const string Section = "Flowgate:Network";

    /// <summary>CIDRs (e.g. "10.1.0.0/16", "::1/128") exempted from the private/loopback/link-local refusal.</summary>
    public List<string> AllowedPrivateNetworks { get; set; } = [];

    [Range(1, long.MaxValue)]
    public long MaxResponseBytes { get; set; } = 10 * 1024 * 1024;

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(30);

    [Range(0, 50)]
    public int MaxRedirects { get; set; } = 5;

    internal IReadOnlyList<IPNetwork> ParseAllowedPrivateNetworks() =>
        AllowedPrivateNetworks.Select(cidr => TryParseCidr(cidr, out var network) ? network : throw new FormatException($"'{cidr}' is not a CIDR")).ToList();

    /// <summary>Strict: "10.1.0.1/16" is refused, since whoever wrote it likely meant something other than 10.1.0.0/16.</summary>
    internal static bool TryParseCidr(string? cidr, out IPNetwork network)
    {
        network = default;
        var slash = cidr?.IndexOf('/') ?? -1;
        return slash > 0
            && IPNetwork.TryParse(cidr!.Trim(), out network)
            && IPAddress.TryParse(cidr.AsSpan(0, slash).Trim(), out var address)
            && address.Equals(network.BaseAddress);
    }
}

internal sealed class NetworkOptionsValidation : IValidateOptions<NetworkOptions>
{
    public ValidateOptionsResult Validate(string? name, NetworkOptions options)
    {
        var failures = new List<string>();
        foreach (var cidr in options.AllowedPrivateNetworks)
        {
            if (!NetworkOptions.TryParseCidr(cidr, out _))
            {
                failures.Add($"{NetworkOptions.Section}:AllowedPrivateNetworks: '{cidr}' is not a CIDR like \"10.1.0.0/16\" or \"::1/128\" (the address must have no bits set beyond the prefix).");
            }
        }
        if (options.Timeout <= TimeSpan.Zero || options.Timeout == System.Threading.Timeout.InfiniteTimeSpan)
        {
            failures.Add($"{NetworkOptions.Section}:Timeout must be a positive, finite duration (got {options.Timeout}).");
        }
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }
}
