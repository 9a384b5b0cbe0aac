using System.Text;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Network;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Secrets;
using Saas.Pipelines.Tests.Network;

namespace Saas.Pipelines.Tests.Enrich;

/// <summary>
/// The engine with outbound calls through the real guard, allow-listing only 127.0.0.1, resolving names
/// from a script and dialling through the loopback-only connector (which fails the test on any other address).
/// </summary>
internal sealed class EnrichEngine : IAsyncDisposable
{
    public StubResolver Resolver { get; } = new();

    public LoopbackOnlyConnector Connector { get; } = new();

    public Engine Engine { get; }

    public EnrichEngine(Action<NetworkOptions>? network = null, Action<IServiceCollection>? configure = null)
    {
        var options = Guard.LoopbackIsPublic(network);
        Engine = new Engine(services =>
        {
            services.Replace(ServiceDescriptor.Singleton(Guard.Factory(options, Resolver, Connector)));
            services.TryAddSingleton<ISecretProtector, ReversibleTestProtector>();
            configure?.Invoke(services);
        });
    }

    public T Get<T>() where T : notnull => Engine.Get<T>();

    /// <summary>Creates the pipeline for a new tenant (with these secrets), runs the records through it and waits for the end.</summary>
    public async Task<Finished> RunAsync(string definition, string records, IReadOnlyDictionary<string, string>? secrets = null, string tenantName = "t")
    {
        var (tenant, pipeline) = await Engine.CreatePipelineAsync(definition, tenantName);
        foreach (var (name, value) in secrets ?? new Dictionary<string, string>())
        {
            await Get<TenantSecrets>().SaveAsync(tenant, name, value, CancellationToken.None);
        }
        var run = await Engine.StartAsync(tenant, pipeline, records);
        await Engine.DrainAsync(TimeSpan.FromSeconds(60));
        var done = Get<RunStore>().Find(tenant, run.Id)!;
        var output = new List<JsonObject>();
        if (done.OutputKey is { } key)
        {
            using var stream = await Get<SmallBlobs>().OpenReadAsync(tenant, key, CancellationToken.None);
            output = (await new StreamReader(stream).ReadToEndAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!.AsObject()).ToList();
        }
        return new Finished(tenant, done, output, Get<RunStore>().StepRuns(tenant, run.Id));
    }

    public ValueTask DisposeAsync() => Engine.DisposeAsync();

    public sealed record Finished(string TenantId, RunRow Run, List<JsonObject> Output, IReadOnlyList<StepRunRow> Steps)
    {
        public string Everything => $"{Run.Error} {string.Join(" ", Steps.Select(s => s.Error + s.ErrorRecord))} {string.Join("\n", Output.Select(o => o.ToJsonString()))}";
    }
}

/// <summary>Stands in for Data Protection in engine tests: reversible, but never the clear text.</summary>
internal sealed class ReversibleTestProtector : ISecretProtector
{
    public string Protect(string tenantId, string secret) => Convert.ToBase64String(Encoding.UTF8.GetBytes($"{tenantId}:{secret}"));

    public string Unprotect(string tenantId, string protectedSecret) =>
        Encoding.UTF8.GetString(Convert.FromBase64String(protectedSecret))[(tenantId.Length + 1)..];
}
