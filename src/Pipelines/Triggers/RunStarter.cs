using System.Buffers;
using System.Text.Json;
using Dapper;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;
using Saas.Pipelines.Storage;

namespace Saas.Pipelines.Triggers;

/// <param name="Duplicate">The file was delivered before: <see cref="Run"/> is the run its first delivery started.</param>
public sealed record UploadStart(RunRow Run, bool Duplicate);

/// <summary>Stores a trigger's input as a blob and creates the run that processes it.</summary>
public sealed class RunStarter(
    IBlobStore blobs, SmallBlobs smallBlobs, RunStore runs, PipelineStore pipelines, SpendingGuard spending, Limits.PendingWork pending,
    Database database, WorkDispatcher dispatcher, TimeProvider time)
{
    /// <summary>
    /// Checks that a JSON body is one object or an array of objects.
    /// </summary>
    /// <returns>null if it is, else what is wrong and where.</returns>
    public static string? ValidateRecords(JsonElement body)
    {
        if (body.ValueKind == JsonValueKind.Object)
        {
            return null;
        }
        if (body.ValueKind != JsonValueKind.Array)
        {
            return $"the body must be a JSON object or an array of objects, found {JsonObjectReader.Describe(body)}";
        }
        var index = 0;
        foreach (var item in body.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Object)
            {
                return $"[{index}] must be an object, found {JsonObjectReader.Describe(item)}";
            }
            index++;
        }
        return null;
    }

    /// <summary>Starts a run on records already checked by <see cref="ValidateRecords"/>.</summary>
    public async Task<RunRow> StartAsync(string tenantId, PipelineRow pipeline, JsonElement records, string trigger, CancellationToken cancellationToken) =>
        await CreateAsync(await PrepareAsync(tenantId, pipeline, records, trigger, cancellationToken), cancellationToken);

    /// <summary>Creates a prepared run and starts it on this node.</summary>
    public async Task<RunRow> CreateAsync(NewRun run, CancellationToken cancellationToken) =>
        (await runs.CreateAsync([run], cancellationToken))[0];

    /// <summary>Writes the records' input blob; the caller creates the run (possibly with others, in one transaction).</summary>
    /// <param name="admitted">The work was admitted already (a queue message when it was posted): no spending check.</param>
    /// <exception cref="SpendingRefusedException">The tenant's spending cap or billing state refuses new runs.</exception>
    /// <exception cref="Limits.NewWorkRefusedException">The tenant has as much pending work as it may, or submits new work too fast.</exception>
    public async Task<NewRun> PrepareAsync(string tenantId, PipelineRow pipeline, JsonElement records, string trigger, CancellationToken cancellationToken, bool admitted = false)
    {
        var compiled = pipelines.GetCompiled(tenantId, pipeline.Id, pipeline.CurrentVersion);
        var count = records.ValueKind == JsonValueKind.Array ? records.GetArrayLength() : 1;
        var runId = Ids.New("run");
        if (!admitted)
        {
            await pending.AdmitAsync(tenantId, 1, cancellationToken);
            spending.AdmitRun(tenantId, runId);
        }
        var single = count <= compiled.Definition.Settings.ChunkSize;
        var key = single ? BlobKeys.ChunkInput(tenantId, runId, 0) : BlobKeys.RunInput(tenantId, runId, "jsonl");
        var input = smallBlobs.OpenWrite(key);
        await WriteJsonlAsync(records, input, cancellationToken);
        await input.CompleteAsync();
        return new NewRun(tenantId, pipeline.Id, pipeline.CurrentVersion, trigger, key, InputFormatNames.Of(InputFormat.Jsonl), single ? count : null, null) { Id = runId, InlineInput = input.Inline };
    }

    /// <summary>Streams an uploaded file to storage and starts a run that splits it. A failed upload leaves no blob behind.</summary>
    public async Task<RunRow> StartUploadAsync(string tenantId, PipelineRow pipeline, Stream body, CancellationToken cancellationToken) =>
        (await StartUploadAsync(tenantId, pipeline, body, deliveryKey: null, cancellationToken)).Run;

    /// <summary>
    /// As above; a <paramref name="deliveryKey"/> (what identifies the delivered file's content, e.g. its name and ETag)
    /// makes a repeated delivery start nothing: the key is recorded in the transaction that creates the run.
    /// </summary>
    public async Task<UploadStart> StartUploadAsync(string tenantId, PipelineRow pipeline, Stream body, string? deliveryKey, CancellationToken cancellationToken)
    {
        if (deliveryKey is not null && FindDelivery(tenantId, deliveryKey) is { } earlier)
        {
            return new(earlier, Duplicate: true);
        }
        var compiled = pipelines.GetCompiled(tenantId, pipeline.Id, pipeline.CurrentVersion);
        var format = InputFormatNames.Of(compiled.Definition.Trigger.Format);
        var runId = Ids.New("run");
        await pending.AdmitAsync(tenantId, 1, cancellationToken);
        spending.AdmitRun(tenantId, runId);
        var key = BlobKeys.RunInput(tenantId, runId, format);
        try
        {
            await using (var stream = await blobs.OpenWriteAsync(key, cancellationToken))
            {
                await body.CopyToAsync(stream, 1 << 16, cancellationToken);
            }
            // Once the file is stored the run is created whatever the caller's token says: cancelling between a
            // commit and its acknowledgement would delete the input of a run that exists.
            var run = new NewRun(tenantId, pipeline.Id, pipeline.CurrentVersion, TriggerTypes.Upload, key, format, null, null) { Id = runId };
            if (deliveryKey is null)
            {
                return new(await CreateAsync(run, CancellationToken.None), Duplicate: false);
            }
            var (created, items) = await database.WriteAsync(tenantId, (connection, transaction) =>
            {
                const string claim = """
                    INSERT INTO upload_deliveries (tenant_id, delivery_key, run_id, created_at) VALUES (@tenantId, @deliveryKey, @runId, @now)
                    ON CONFLICT (tenant_id, delivery_key) DO NOTHING
                    """;
                if (connection.Execute(claim, new { tenantId, deliveryKey, runId, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, transaction) == 0)
                {
                    return (null, []);
                }
                var (rows, work) = runs.Create(connection, transaction, [run]);
                return ((RunRow?)rows[0], work);
            }, CancellationToken.None);
            if (created is null)
            {
                // Another delivery of the same file committed first, between the check above and this transaction.
                await blobs.DeleteAsync(key, CancellationToken.None);
                return new(FindDelivery(tenantId, deliveryKey)!, Duplicate: true);
            }
            dispatcher.Dispatch(items);
            return new(created, Duplicate: false);
        }
        catch
        {
            await blobs.DeleteAsync(key, CancellationToken.None);
            throw;
        }
    }

    private RunRow? FindDelivery(string tenantId, string deliveryKey)
    {
        const string sql = "SELECT run_id FROM upload_deliveries WHERE tenant_id = @tenantId AND delivery_key = @deliveryKey";
        using var connection = database.OpenConnection();
        return connection.ExecuteScalar<string?>(sql, new { tenantId, deliveryKey }) is { } runId ? runs.Find(tenantId, runId) : null;
    }

    /// <summary>Runs a run's input again through the same pipeline version, as a new run.</summary>
    public async Task<RunRow?> ReplayAsync(string tenantId, string runId, CancellationToken cancellationToken)
    {
        var original = runs.Find(tenantId, runId);
        if (original is null)
        {
            return null;
        }
        var replay = new NewRun(tenantId, original.PipelineId, original.Version, "replay", original.InputKey, original.InputFormat, null, original.Id);
        await pending.AdmitAsync(tenantId, 1, cancellationToken);
        spending.AdmitRun(tenantId, replay.Id);
        return await CreateAsync(replay, cancellationToken);
    }

    private static async Task WriteJsonlAsync(JsonElement records, Stream stream, CancellationToken cancellationToken)
    {
        var buffer = new ArrayBufferWriter<byte>(4096);
        using var writer = new Utf8JsonWriter(buffer);
        var items = records.ValueKind == JsonValueKind.Array ? records.EnumerateArray() : Enumerable.Repeat(records, 1);
        foreach (var item in items)
        {
            item.WriteTo(writer);
            writer.Flush();
            writer.Reset();
            buffer.Write("\n"u8);
            if (buffer.WrittenCount > 1 << 16)
            {
                await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
                buffer.ResetWrittenCount();
            }
        }
        await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
    }
}
