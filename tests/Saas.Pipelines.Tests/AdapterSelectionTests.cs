using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Runs;
using OpenTelemetry.Trace;
using Saas.Pipelines.Telemetry;
using Saas.Tests;

namespace Saas.Pipelines.Tests;

/// <summary>Configuration picks the adapters; a wrong or incomplete setting says which and how to fix it.</summary>
public sealed class AdapterSelectionTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        settings["Flowgate:DataDirectory"] = Path.Combine(Path.GetTempPath(), "flowgate-selection-tests", Guid.NewGuid().ToString("N"));
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging();
        services.AddPipelines();
        services.AddStorageQueueWork(configuration);
        return services.BuildServiceProvider();
    }

    [Fact]
    public void The_embedded_defaults_are_the_folder_store_and_the_sql_queue()
    {
        using var services = Build([]);

        Assert.IsType<FolderBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.Null(services.GetService<StorageWorkQueue>());
    }

    [Fact]
    public async Task Azure_providers_are_chosen_by_configuration()
    {
        await using var services = Build(new()
        {
            ["Flowgate:Blobs:Provider"] = "azure", ["ConnectionStrings:Blobs"] = Azurite.ConnectionString,
            ["Flowgate:Queue:Provider"] = "azure-storage", ["ConnectionStrings:Queues"] = Azurite.ConnectionString,
        });

        Assert.IsType<AzureBlobStore>(services.GetRequiredService<IBlobStore>());
        Assert.NotNull(services.GetRequiredService<StorageWorkQueue>());
    }

    [Fact]
    public void An_azure_provider_without_its_connection_string_names_the_missing_setting()
    {
        using var services = Build(new() { ["Flowgate:Blobs:Provider"] = "azure" });

        var error = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IBlobStore>());
        Assert.Contains("ConnectionStrings:Blobs is not set", error.Message);
        Assert.Contains("https://<account>.blob.core.windows.net", error.Message);
    }

    [Fact]
    public void An_unknown_provider_lists_the_known_ones()
    {
        using var services = Build(new() { ["Flowgate:Blobs:Provider"] = "s3" });

        var blobs = Assert.Throws<InvalidOperationException>(() => services.GetRequiredService<IBlobStore>());
        var queue = Assert.Throws<InvalidOperationException>(() => Build(new() { ["Flowgate:Queue:Provider"] = "rabbit" }));
        Assert.Equal("Flowgate:Blobs:Provider is 's3': use 'folder' (the default) or 'azure'", blobs.Message);
        Assert.Equal("Flowgate:Queue:Provider is 'rabbit': use 'sql' (the default) or 'azure-storage'", queue.Message);
    }

    [Fact]
    public void A_model_call_span_carries_the_gen_ai_attributes()
    {
        var spans = new List<System.Diagnostics.Activity>();
        using var tracing = OpenTelemetry.Sdk.CreateTracerProviderBuilder().AddSource(GenAiTelemetry.Name).AddInMemoryExporter(spans).Build();

        var target = new Saas.Pipelines.Ai.ResolvedTarget(new Saas.Pipelines.Ai.ProviderRow("main", "openai", null, null, null, 0), new Saas.Pipelines.Ai.ModelTarget("main", "gpt-4o-mini"), null);
        GenAiTelemetry.StartCall("tenant_1", "chat/completions", target).Answered(12, 34, "gpt-4o-mini-2024-07-18");
        tracing!.ForceFlush();

        var span = Assert.Single(spans);
        Assert.Equal("chat gpt-4o-mini", span.DisplayName);
        Assert.Equal(System.Diagnostics.ActivityKind.Client, span.Kind);
        Assert.Equal("openai", span.GetTagItem("gen_ai.provider.name"));
        Assert.Equal("gpt-4o-mini", span.GetTagItem("gen_ai.request.model"));
        Assert.Equal("tenant_1", span.GetTagItem("flowgate.tenant_id"));
        Assert.Equal("gpt-4o-mini-2024-07-18", span.GetTagItem("gen_ai.response.model"));
        Assert.Equal(12L, span.GetTagItem("gen_ai.usage.input_tokens"));
        Assert.Equal(34L, span.GetTagItem("gen_ai.usage.output_tokens"));
    }
}
