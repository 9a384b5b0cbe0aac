namespace Saas.Pipelines.Network;

/// <summary>An outbound HTTP call was refused by the network guard; the message says what and why.</summary>
public sealed class OutboundCallRefusedException(string message) : Exception(message)
{
    internal const string AllowListHint = "only public addresses are allowed (Flowgate:Network:AllowedPrivateNetworks)";
}
