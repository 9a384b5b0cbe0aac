using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Saas.Pipelines.Network;

namespace Saas.Pipelines.Tests.Network;

public sealed class NetworkOptionsTests
{
    private static ServiceProvider Services(Dictionary<string, string?> settings)
    {
        var services = new ServiceCollection();
        services.AddSingleton<IConfiguration>(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        services.AddNetworkGuard();
        return services.BuildServiceProvider();
    }

    [Fact]
    public void Defaults_are_ten_megabytes_thirty_seconds_five_redirects_and_no_private_networks()
    {
        using var services = Services([]);

        var options = services.GetRequiredService<IOptions<NetworkOptions>>().Value;

        Assert.Equal(10 * 1024 * 1024, options.MaxResponseBytes);
        Assert.Equal(TimeSpan.FromSeconds(30), options.Timeout);
        Assert.Equal(5, options.MaxRedirects);
        Assert.Empty(options.AllowedPrivateNetworks);
        Assert.NotNull(services.GetRequiredService<GuardedHttpClientFactory>());
    }

    [Fact]
    public void Settings_bind_from_the_Flowgate_Network_section()
    {
        using var services = Services(new()
        {
            ["Flowgate:Network:AllowedPrivateNetworks:0"] = "10.1.0.0/16",
            ["Flowgate:Network:AllowedPrivateNetworks:1"] = "::1/128",
            ["Flowgate:Network:MaxResponseBytes"] = "1024",
            ["Flowgate:Network:Timeout"] = "00:00:05",
            ["Flowgate:Network:MaxRedirects"] = "1",
        });

        var options = services.GetRequiredService<IOptions<NetworkOptions>>().Value;

        Assert.Equal(["10.1.0.0/16", "::1/128"], options.AllowedPrivateNetworks);
        Assert.Equal(1024, options.MaxResponseBytes);
        Assert.Equal(TimeSpan.FromSeconds(5), options.Timeout);
        Assert.Equal(1, options.MaxRedirects);
    }

    [Theory]
    [InlineData("10.1.0.0")]
    [InlineData("10.1.0.1/16")]
    [InlineData("10.1.0.0/33")]
    [InlineData("internal.example/8")]
    public void A_malformed_allowed_network_fails_at_start_naming_the_value(string cidr)
    {
        using var services = Services(new() { ["Flowgate:Network:AllowedPrivateNetworks:0"] = cidr });

        var failure = Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());

        Assert.Contains($"'{cidr}' is not a CIDR", failure.Message);
    }

    [Fact]
    public void A_non_positive_timeout_fails_at_start()
    {
        using var services = Services(new() { ["Flowgate:Network:Timeout"] = "00:00:00" });

        Assert.Throws<OptionsValidationException>(() => services.GetRequiredService<IStartupValidator>().Validate());
    }
}
