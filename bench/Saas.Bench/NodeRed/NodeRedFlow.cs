using System.Text.Json;

namespace Saas.Bench.NodeRed;

/// <summary>
/// The Node-RED side of the comparison: http in (POST /run) → one function node doing the same map, filter and
/// select as Flowgate's three-step pipeline → http response with the records out, as a JSON array.
/// </summary>
public static class NodeRedFlow
{
    public const string Path = "/run";

    /// <summary>What the flow answers for <see cref="Flowgate.PipelineDefinitions.SmallRecord"/>.</summary>
    public const string ExpectedResponse = """[{"id":1,"total":13.5}]""";

    private const string ThreeSteps = """
        const record = msg.payload;
        const total = record.qty * record.price;
        msg.payload = total > 10 ? [{ id: record.id, total: total }] : [];
        return msg;
        """;

    public static string Json() => JsonSerializer.Serialize(new object[]
    {
        new { id = "bench-tab", type = "tab", label = "bench" },
        new { id = "bench-in", type = "http in", z = "bench-tab", url = Path, method = "post", upload = false, wires = new[] { new[] { "bench-steps" } } },
        new
        {
            id = "bench-steps", type = "function", z = "bench-tab", name = "map, filter, select", func = ThreeSteps, outputs = 1,
            timeout = 0, noerr = 0, initialize = "", finalize = "", libs = Array.Empty<object>(), wires = new[] { new[] { "bench-out" } },
        },
        new { id = "bench-out", type = "http response", z = "bench-tab", statusCode = "200", headers = new { }, wires = Array.Empty<string[]>() },
    });

    /// <summary>Listens on 127.0.0.1 only; no editor or admin API, no diagnostics, no telemetry, quiet logs.</summary>
    public static string Settings(int port, string userDir) => $$"""
        module.exports = {
            uiHost: "127.0.0.1",
            uiPort: {{port}},
            userDir: {{JsonSerializer.Serialize(userDir)}},
            flowFile: "flows.json",
            credentialSecret: false,
            httpAdminRoot: false,
            diagnostics: { enabled: false, ui: false },
            runtimeState: { enabled: false, ui: false },
            telemetry: { enabled: false, updateNotification: false },
            externalModules: { autoInstall: false, palette: { allowInstall: false }, modules: { allowInstall: false } },
            functionExternalModules: false,
            logging: { console: { level: "warn", metrics: false, audit: false } },
        };
        """;
}
