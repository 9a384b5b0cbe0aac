using System.Buffers;
using System.Text.Json;
using Saas.Pipelines.Billing;
using Saas.Pipelines.Blobs;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Pipelines;
using Saas.Pipelines.Runs;

namespace Saas.Pipelines.Triggers;

/// <summary>Stores a trigger's input as a blob and creates the run that processes it.</summary>
public sealed class RunStarter(IBlobStore blobs, SmallBlobs smallBlobs, RunStore runs, PipelineStore pipelines, SpendingGuard spending, Limits.PendingWork pending)
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
    /// <exception cref="Limits.PendingWorkRefusedException">The tenant has as much pending work as it may.</exception>
    public async Task<NewRun> PrepareAsync(string tenantId, PipelineRow pipeline, JsonElement records, string trigger, CancellationToken cancellationToken, bool admitted = false)
    {
        var compiled = pipelines.GetCompiled(tenantId, pipeline.Id, pipeline.CurrentVersion);
        var count = records.ValueKind == JsonValueKind.Array ? records.GetArrayLength() : 1;
        var runId = Ids.New("run");
        if (!admitted)
        {
            pending.Admit(tenantId, 1);
            spending.AdmitRun(tenantId, runId);
        }
        var single = count <= compiled.Definition.Settings.ChunkSize;
        var key = single ? BlobKeys.ChunkInput(tenantId, runId, 0) : BlobKeys.RunInput(tenantId, runId, "jsonl");
        var input = smallBlobs.OpenWrite(key);
        await WriteJsonlAsync(records, input, cancellationToken);
        await input.CompleteAsync();
        return new NewRun(tenantId, pipeline.Id, pipeline.CurrentVersion, trigger, key, InputFormatNames.Of(InputFormat.Jsonl), single ? count : null, null) { Id = runId, InlineInput = input.Inline };
    }

    /// <summary>Streams an uploaded file to storage and starts a run that splits it.</summary>
    public async Task<RunRow> StartUploadAsync(string tenantId, PipelineRow pipeline, Stream body, CancellationToken cancellationToken)
    {
        var compiled = pipelines.GetCompiled(tenantId, pipeline.Id, pipeline.CurrentVersion);
        var format = InputFormatNames.Of(compiled.Definition.Trigger.Format);
        var runId = Ids.New("run");
        pending.Admit(tenantId, 1);
        spending.AdmitRun(tenantId, runId);
        var key = BlobKeys.RunInput(tenantId, runId, format);
        await using (var stream = await blobs.OpenWriteAsync(key, cancellationToken))
        {
            await body.CopyToAsync(stream, 1 << 16, cancellationToken);
        }
        return await CreateAsync(new NewRun(tenantId, pipeline.Id, pipeline.CurrentVersion, TriggerTypes.Upload, key, format, null, null) { Id = runId }, cancellationToken);
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
        pending.Admit(tenantId, 1);
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
