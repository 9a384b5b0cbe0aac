using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using System.Data.Common;
using Dapper;
using Microsoft.Data.Sqlite;
using Npgsql;
using Saas.Tests;

namespace Saas.Web.Tests;

/// <summary>The embedded defaults: SQLite and a blob folder.</summary>
public sealed class CrashRecoveryOnSqliteTests() : CrashRecoveryTests(StoreAdapter.Sqlite);

/// <summary>The production adapters: PostgreSQL for the state and Azure Blob Storage (Azurite) for inputs, chunks and outputs.</summary>
public sealed class CrashRecoveryOnPostgresAndAzuriteTests() : CrashRecoveryTests(StoreAdapter.Postgres);

/// <summary>Kills the host with SIGKILL in the middle of a run and restarts it on the same data.</summary>
public abstract class CrashRecoveryTests : IDisposable
{
    private const int Rows = 300_000;
    private const int ChunkSize = 2_000;
    private readonly string _data = Path.Combine(Path.GetTempPath(), "flowgate-crash", Guid.NewGuid().ToString("N"));
    private readonly List<Process> _processes = [];
    private readonly PostgresDatabase? _postgres;
    private readonly string[] _adapterArguments = [];

    protected CrashRecoveryTests(StoreAdapter adapter)
    {
        if (adapter == StoreAdapter.Postgres)
        {
            _postgres = Postgres.NewDatabase();
            _adapterArguments =
            [
                "--Flowgate:Database:Provider=postgres", $"--ConnectionStrings:Flowgate={_postgres.ConnectionString}",
                "--Flowgate:Blobs:Provider=azure", $"--ConnectionStrings:Blobs={Azurite.ConnectionString}",
                $"--Flowgate:Blobs:Container=crash-{Guid.NewGuid():N}",
            ];
        }
    }

    [Fact]
    public async Task Run_killed_mid_step_completes_after_restart_with_every_step_and_usage_event_recorded_once()
    {
        var tenant = JsonNode.Parse(await RunToEndAsync("create-tenant", "crash", "--json"))!;
        var port = FreePort();
        var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}"), Timeout = TimeSpan.FromMinutes(2) };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", tenant["apiKey"]!.GetValue<string>());

        string runId;
        {
            var host = await StartHostAsync(port, http);
            var created = await http.PostAsJsonAsync("/api/v1/pipelines", new
            {
                name = "crash",
                trigger = new { type = "upload", format = "csv" },
                steps = new object[]
                {
                    new { id = "parse", type = "map", fields = new Dictionary<string, string> { ["n"] = "Number(record.id)", ["label"] = "'item-' + record.id + '-' + record.name.toUpperCase()" } },
                    new { id = "keep", type = "filter", where = "record.n % 1 === 0" },
                    new { id = "shape", type = "select", fields = new[] { "n", "label" } },
                },
                settings = new { chunkSize = ChunkSize },
            });
            var createdBody = await created.Content.ReadAsStringAsync();
            Assert.True(created.IsSuccessStatusCode, createdBody);
            var pipeline = JsonNode.Parse(createdBody)!["id"]!.GetValue<string>();
            var csv = new StringBuilder("id,name\n");
            for (var i = 1; i <= Rows; i++)
            {
                csv.Append(i).Append(",name").Append(i).Append('\n');
            }
            var upload = await http.PostAsync($"/api/v1/pipelines/{pipeline}/uploads", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));
            runId = JsonNode.Parse(await upload.Content.ReadAsStringAsync())!["id"]!.GetValue<string>();

            var killedMidRun = false;
            for (var i = 0; i < 6000 && !killedMidRun; i++)
            {
                var run = JsonNode.Parse(await http.GetStringAsync($"/api/v1/runs/{runId}"))!;
                Assert.NotEqual("succeeded", run["status"]!.GetValue<string>());
                if (run["steps"]!.AsArray().Sum(s => s!["chunksDone"]!.GetValue<long>()) >= 20)
                {
                    host.Kill(entireProcessTree: true);
                    await host.WaitForExitAsync();
                    killedMidRun = true;
                }
                await Task.Delay(10);
            }
            Assert.True(killedMidRun, "the run never got going");
        }

        {
            await StartHostAsync(port, http);
            JsonNode run;
            var deadline = DateTime.UtcNow.AddMinutes(6); // generous: the shared CI machine runs every suite at once
            do
            {
                await Task.Delay(100);
                run = JsonNode.Parse(await http.GetStringAsync($"/api/v1/runs/{runId}"))!;
            }
            while (run["status"]!.GetValue<string>() is "queued" or "running" && DateTime.UtcNow < deadline);

            Assert.Equal("succeeded", run["status"]!.GetValue<string>());
            Assert.Equal(Rows, run["recordsOut"]!.GetValue<long>());
            var output = (await http.GetStringAsync($"/api/v1/runs/{runId}/output")).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(Enumerable.Range(1, Rows).Select(n => (double)n), output.Select(line => JsonNode.Parse(line)!["n"]!.GetValue<double>()));
        }

        const int expected = Rows / ChunkSize * 3;
        using DbConnection db = _postgres is null
            ? new SqliteConnection($"Data Source={Path.Combine(_data, "flowgate.db")}")
            : new NpgsqlConnection(_postgres.ConnectionString);
        db.Open();
        var notSucceeded = db.Query<(long StepIndex, long Chunk, string Status, long Attempts, string? Error)>(
            "SELECT step_index, chunk, status, attempts, error FROM step_runs WHERE run_id = @runId AND status <> 'succeeded'", new { runId }).AsList();
        var counted = db.Query<(long StepIndex, long Chunks)>("SELECT step_index, COUNT(*) FROM step_runs WHERE run_id = @runId GROUP BY step_index", new { runId }).AsList();
        Assert.True(notSucceeded.Count == 0 && counted.All(c => c.Chunks == Rows / ChunkSize),
            $"step runs per step: {string.Join(", ", counted)}; not succeeded: {string.Join(", ", notSucceeded)}");
        Assert.Equal(expected, db.ExecuteScalar<long>("SELECT COUNT(*) FROM step_runs WHERE run_id = @runId AND status = 'succeeded'", new { runId }));
        Assert.Equal(expected, db.ExecuteScalar<long>("SELECT COUNT(*) FROM step_runs WHERE run_id = @runId", new { runId }));
        Assert.Equal(expected, db.ExecuteScalar<long>("SELECT COUNT(*) FROM usage_events WHERE run_id = @runId AND meter = 'step_executions'", new { runId }));
        Assert.Equal(expected, db.ExecuteScalar<long>("SELECT COUNT(DISTINCT idempotency_key) FROM usage_events WHERE run_id = @runId", new { runId }));
        Assert.Equal(0, db.ExecuteScalar<long>("SELECT COUNT(*) FROM work_items WHERE run_id = @runId", new { runId }));
    }

    private async Task<Process> StartHostAsync(int port, HttpClient http)
    {
        var host = Start($"--urls=http://127.0.0.1:{port}", "--Flowgate:Runtime:LeaseSeconds=2", "--Flowgate:Runtime:PollIntervalMilliseconds=100", "--Logging:LogLevel:Default=Warning");
        var errors = new StringBuilder();
        host.OutputDataReceived += (_, _) => { };
        host.ErrorDataReceived += (_, line) => { lock (errors) { errors.AppendLine(line.Data); } };
        host.BeginOutputReadLine();
        host.BeginErrorReadLine();
        for (var i = 0; i < 600; i++)
        {
            try
            {
                if ((await http.GetAsync("/healthz")).StatusCode == HttpStatusCode.OK)
                {
                    return host;
                }
            }
            catch (HttpRequestException)
            {
            }
            Assert.False(host.HasExited, "the host exited: " + errors);
            await Task.Delay(50);
        }
        throw new TimeoutException("the host did not start");
    }

    private async Task<string> RunToEndAsync(params string[] args)
    {
        using var process = Start(args);
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, await process.StandardError.ReadToEndAsync());
        return output;
    }

    private Process Start(params string[] args)
    {
        var start = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.ArgumentList.Add(WebHostAssembly());
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.ArgumentList.Add($"--Flowgate:DataDirectory={_data}");
        foreach (var arg in _adapterArguments)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["DOTNET_ENVIRONMENT"] = "Production";
        var process = Process.Start(start)!;
        _processes.Add(process);
        return process;
    }

    /// <summary>The web host built beside the tests (same configuration), run as its own process.</summary>
    private static string WebHostAssembly()
    {
        var tests = AppContext.BaseDirectory;
        var configuration = new DirectoryInfo(tests).Parent!.Name;
        var root = tests;
        while (!File.Exists(Path.Combine(root, "Saas.sln")))
        {
            root = Path.GetDirectoryName(root) ?? throw new InvalidOperationException("Saas.sln not found above " + tests);
        }
        var path = Path.Combine(root, "src", "Web", "bin", configuration, "net10.0", "Saas.Web.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException("build src/Web first", path);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    public void Dispose()
    {
        foreach (var process in _processes)
        {
            try
            {
                process.Kill(entireProcessTree: true);
                process.WaitForExit();
            }
            catch (InvalidOperationException)
            {
            }
            process.Dispose();
        }
        _postgres?.Dispose();
        try
        {
            Directory.Delete(_data, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
