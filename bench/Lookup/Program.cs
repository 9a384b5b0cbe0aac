// The lookup step against a 1,000,000-row reference table, as the executor runs it on chunks: read JSONL,
// join, write JSONL. Prints the index build time and records/s. Real SQLite and blob folder under bench/.work/lookup.
using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Saas.Pipelines;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Steps;
using Saas.Pipelines.Tables;
using Saas.Pipelines.Tenancy;

var tableRows = Arg("--rows", 1_000_000);
var records = Arg("--records", 2_000_000);
var chunkSize = Arg("--chunk-size", 50_000);
var data = Path.Combine(AppContext.BaseDirectory, "../../../../.work/lookup", Guid.NewGuid().ToString("N"));

var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Flowgate:DataDirectory"] = data }).Build();
var services = new ServiceCollection().AddSingleton<IConfiguration>(configuration).AddLogging(l => l.SetMinimumLevel(LogLevel.Warning)).AddPipelines().BuildServiceProvider();
try
{
    var (tenant, _) = await services.GetRequiredService<TenantStore>().CreateTenantAsync("bench", CancellationToken.None);
    var tables = services.GetRequiredService<ReferenceTables>();

    var csv = new StringBuilder("id,tier,region\n");
    string[] tiers = ["gold", "silver", "bronze", "platinum"];
    for (var i = 0; i < tableRows; i++)
    {
        csv.Append("c-").Append(i).Append(',').Append(tiers[i % 4]).Append(",r").Append(i % 17).Append('\n');
    }
    var stopwatch = Stopwatch.StartNew();
    var version = await tables.UploadAsync(tenant.Id, "customers", InputFormat.Csv, new MemoryStream(Encoding.UTF8.GetBytes(csv.ToString())), CancellationToken.None);
    Console.WriteLine($"table: {version.Rows:N0} rows, {version.Bytes / 1e6:F1} MB, uploaded and checked in {stopwatch.Elapsed.TotalSeconds:F2} s");

    var definition = DefinitionParser.Parse("""
        {"name":"bench","trigger":{"type":"http"},"steps":[
          {"id":"join","type":"lookup","table":"customers","on":{"customer_id":"id"},"fields":{"tier":"tier","region":"region"},"default":{"tier":"unknown"}}]}
        """);
    var step = definition.Pipeline!.Steps[0].Step;

    // Input chunks as the executor reads them: JSONL, about 1 in 6 keys missing from the table.
    var random = new Random(42);
    var chunks = new List<byte[]>();
    for (var start = 0; start < records; start += chunkSize)
    {
        var jsonl = new StringBuilder();
        for (var i = start; i < Math.Min(records, start + chunkSize); i++)
        {
            jsonl.Append("{\"order\":").Append(i).Append(",\"customer_id\":\"c-").Append(random.Next(tableRows * 6 / 5)).Append("\",\"amount\":").Append(random.Next(1, 500)).Append("}\n");
        }
        chunks.Add(Encoding.UTF8.GetBytes(jsonl.ToString()));
    }

    stopwatch.Restart();
    await RunChunkAsync(chunks[0]);
    Console.WriteLine($"index: built on first use in {stopwatch.Elapsed.TotalSeconds:F2} s (one chunk included)");

    // The machine may be shared: CPU time says what the cores would do if they were all ours.
    var process = Process.GetCurrentProcess();
    for (var round = 1; round <= 2; round++)
    {
        var cpu = process.TotalProcessorTime;
        stopwatch.Restart();
        await Parallel.ForEachAsync(chunks, new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (chunk, _) => await RunChunkAsync(chunk));
        Report($"round {round}, JSONL in and out", stopwatch.Elapsed, process.TotalProcessorTime - cpu);
    }

    // The join alone, on records already parsed (one chunk joined over and over), without JSON.
    var parsed = new List<Saas.Pipelines.Records.Record>();
    await foreach (var record in ChunkReader.ReadJsonlAsync(new MemoryStream(chunks[0]), CancellationToken.None))
    {
        parsed.Add(record);
    }
    var joinOnly = process.TotalProcessorTime;
    stopwatch.Restart();
    await Parallel.ForEachAsync(Enumerable.Range(0, records / parsed.Count), new ParallelOptions { MaxDegreeOfParallelism = Environment.ProcessorCount }, async (_, _) =>
    {
        var context = new StepContext(tenant.Id, null, null, "join", 0, services);
        await foreach (var joined in step.ExecuteAsync(parsed.ToAsyncEnumerable(), context, CancellationToken.None))
        {
            GC.KeepAlive(joined);
        }
    });
    Report("join only (records in memory)", stopwatch.Elapsed, process.TotalProcessorTime - joinOnly);

    void Report(string what, TimeSpan wall, TimeSpan cpu)
    {
        var cores = Environment.ProcessorCount;
        Console.WriteLine($"{what}: {records:N0} records against {tableRows:N0} rows in {wall.TotalSeconds:F2} s = {records / wall.TotalSeconds:N0} records/s; " +
            $"CPU {cpu.TotalSeconds:F2} s = {records / cpu.TotalSeconds * cores:N0} records/s on {cores} whole cores");
    }

    async Task<long> RunChunkAsync(byte[] chunk)
    {
        var context = new StepContext(tenant.Id, null, null, "join", 0, services);
        using var input = new MemoryStream(chunk);
        using var sink = new MemoryStream(chunk.Length * 2);
        await using var writer = new JsonlRecordWriter(sink, 1024 * 1024);
        await foreach (var record in step.ExecuteAsync(ChunkReader.ReadJsonlAsync(input, CancellationToken.None), context, CancellationToken.None))
        {
            await writer.WriteAsync(record, CancellationToken.None);
        }
        return writer.Count;
    }
}
finally
{
    await services.DisposeAsync();
    Directory.Delete(data, recursive: true);
}

int Arg(string name, int fallback)
{
    var at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? int.Parse(args[at + 1]) : fallback;
}
