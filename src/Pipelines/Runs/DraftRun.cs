using System.Diagnostics;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Records;
using Saas.Pipelines.Steps;

namespace Saas.Pipelines.Runs;

/// <summary>How to read a draft's sample; by default the trigger's own format (JSON for non-upload triggers).</summary>
public sealed record DraftSampleFormat(InputFormat Format, char Delimiter = ',');

/// <summary>
/// What a draft run did: the definition's errors (then nothing ran), the sample's parse error, or the
/// sample as read and each enabled step's outcome, in order, up to and including the first that failed.
/// </summary>
public sealed record DraftResult(
    IReadOnlyList<DefinitionError> Errors,
    string? SampleError,
    DraftInput? Input,
    IReadOnlyList<DraftStepResult> Steps)
{
    public bool Succeeded => Errors.Count == 0 && SampleError is null && Steps.All(s => s.Error is null);

    /// <summary>What a real run on the same records would meter: one step execution per step, and the usage (tokens) steps reported.</summary>
    public IReadOnlyList<Metering.UsageQuantity> Usage =>
        Steps.SelectMany(s => s.Usage).GroupBy(u => (u.Meter, u.Model)).Select(g => new Metering.UsageQuantity(g.Key.Meter, g.Key.Model, g.Sum(u => u.Quantity))).ToList();
}

/// <param name="Truncated">The sample had more than <see cref="DraftRunner.MaxRecords"/> records; the rest were not read.</param>
/// <param name="Fields">Every field name the records carry, in order of first appearance.</param>
public sealed record DraftInput(int Records, bool Truncated, IReadOnlyList<string> Fields, IReadOnlyList<Record> Preview);

/// <param name="Preview">The first <see cref="DraftRunner.PreviewRecords"/> output records (copies).</param>
/// <param name="Fields">Every field name of the step's output, in order of first appearance: what the next step can use.</param>
/// <param name="ErrorRecordNumber">1-based number of the input record the step failed on, when it failed on one.</param>
/// <param name="ErrorRecord">That record as JSON.</param>
public sealed record DraftStepResult(
    int Index, string StepId, string Type, long RecordsIn, long RecordsOut, TimeSpan Duration,
    IReadOnlyList<Record> Preview, IReadOnlyList<string> Fields,
    string? Error, long? ErrorRecordNumber, string? ErrorRecord)
{
    /// <summary>What this step would meter in a real run: one step execution, and what it reported (tokens per model).</summary>
    public IReadOnlyList<Metering.UsageQuantity> Usage { get; init; } = [];
}

/// <summary>
/// Runs an unpublished definition on a sample, in memory: the same parser, readers and compiled steps as a
/// real run, but no run row, no blobs, no work items and no usage events, so nothing is stored or billed.
/// Steps get a draft <see cref="StepContext"/> with the engine's services, so steps that call out still work;
/// the usage they report is kept on the result (for the builder's cost estimate), never metered.
/// </summary>
public sealed class DraftRunner(IServiceProvider services)
{
    public const int MaxRecords = 1_000;
    public const int PreviewRecords = 50;

    public async Task<DraftResult> RunAsync(string tenantId, string definitionJson, Stream sample, DraftSampleFormat? format, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(sample);
        var parsed = DefinitionParser.Parse(definitionJson);
        if (parsed.Pipeline is not { } pipeline)
        {
            return new DraftResult(parsed.Errors, null, null, []);
        }
        var trigger = pipeline.Definition.Trigger;
        format ??= trigger.Type == TriggerTypes.Upload
            ? new DraftSampleFormat(trigger.Format, trigger.Delimiter)
            : new DraftSampleFormat(InputFormat.Json);

        List<Record> records;
        bool truncated;
        try
        {
            (records, truncated) = await ReadRecordsAsync(sample, format, cancellationToken);
        }
        catch (RecordException error)
        {
            return new DraftResult([], $"the sample does not parse as {InputFormatNames.Of(format.Format)}: {error.Message}", null, []);
        }
        var input = new DraftInput(records.Count, truncated, FieldsOf(records), Copy(records.Take(PreviewRecords)));

        var steps = new List<DraftStepResult>();
        IReadOnlyList<Record> current = records;
        var timeout = TimeSpan.FromSeconds(pipeline.Definition.Settings.StepTimeoutSeconds);
        foreach (var step in pipeline.Steps)
        {
            var result = await ExecuteAsync(StepContext.Draft(tenantId, step.Id, services), step, current, timeout, cancellationToken);
            steps.Add(result.Step);
            if (result.Step.Error is not null)
            {
                break;
            }
            current = result.Output;
        }
        return new DraftResult([], null, input, steps);
    }

    /// <summary>Reads a sample without running anything: its records and fields, for the builder's suggestions.</summary>
    /// <exception cref="RecordException">The sample does not parse.</exception>
    public static async Task<DraftInput> ReadSampleAsync(Stream sample, DraftSampleFormat format, CancellationToken cancellationToken)
    {
        var (records, truncated) = await ReadRecordsAsync(sample, format, cancellationToken);
        return new DraftInput(records.Count, truncated, FieldsOf(records), Copy(records.Take(PreviewRecords)));
    }

    private static async Task<(DraftStepResult Step, List<Record> Output)> ExecuteAsync(
        StepContext context, CompiledStep step, IReadOnlyList<Record> input, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var output = new List<Record>();
        long recordsIn = 0;
        string? error = null;
        long? errorNumber = null;
        string? errorRecord = null;
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        var stopwatch = Stopwatch.StartNew();
        try
        {
            await foreach (var record in step.Step.ExecuteAsync(Counted(input, () => recordsIn++), context, deadline.Token))
            {
                output.Add(record);
            }
        }
        catch (RecordFailedException failure)
        {
            (error, errorNumber, errorRecord) = (failure.Message, failure.RecordNumber, failure.RecordJson);
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            error = $"timed out after {timeout.TotalSeconds:0} s (settings.stepTimeoutSeconds)";
        }
        catch (Exception failure) when (failure is not OperationCanceledException)
        {
            // A draft shows any failure (a data error, an unreachable URL...) instead of retrying it.
            error = failure.Message;
        }
        stopwatch.Stop();
        var result = new DraftStepResult(
            step.Index, step.Id, step.Type, recordsIn, output.Count, stopwatch.Elapsed,
            Copy(output.Take(PreviewRecords)), FieldsOf(output), error, errorNumber, errorRecord)
        {
            Usage = [new(Metering.Meters.StepExecutions, null, 1), .. context.Usage.Totals.Select(u => new Metering.UsageQuantity(u.Meter, u.Model, u.Quantity))],
        };
        return (result, output);
    }

    /// <summary>
    /// Reads at most <see cref="MaxRecords"/> records exactly as a real run does: the splitter validates and
    /// writes the first chunk, the chunk reader turns it into records. A lone JSON object is one record, as a
    /// JSON run or queue message accepts it.
    /// </summary>
    private static async Task<(List<Record> Records, bool Truncated)> ReadRecordsAsync(Stream sample, DraftSampleFormat format, CancellationToken cancellationToken)
    {
        var (stream, loneObject) = format.Format == InputFormat.Json ? await PeekLoneObjectAsync(sample, cancellationToken) : (sample, false);
        if (loneObject)
        {
            return ([RecordJson.Parse(((MemoryStream)stream).ToArray())], false);
        }
        var chunk = new MemoryStream();
        var truncated = false;
        try
        {
            await InputSplitter.SplitAsync(stream, format.Format, format.Delimiter, MaxRecords,
                (index, _) => index == 0 ? Task.FromResult<Stream>(chunk) : throw new SampleFull(), cancellationToken);
        }
        catch (SampleFull)
        {
            truncated = true;
        }
        using var first = new MemoryStream(chunk.ToArray());
        var reader = format.Format == InputFormat.Csv
            ? ChunkReader.ReadCsvAsync(first, format.Delimiter, cancellationToken)
            : ChunkReader.ReadJsonlAsync(first, cancellationToken);
        var records = new List<Record>();
        await foreach (var record in reader)
        {
            records.Add(record);
        }
        return (records, truncated);
    }

    /// <summary>
    /// Reads up to the first non-blank byte. If it opens an object, the sample is that one record (read whole, up to
    /// the size of one line); otherwise the bytes read are put back in front of the rest.
    /// </summary>
    private static async Task<(Stream Stream, bool LoneObject)> PeekLoneObjectAsync(Stream sample, CancellationToken cancellationToken)
    {
        var head = new MemoryStream();
        var one = new byte[1];
        while (await sample.ReadAsync(one, cancellationToken) == 1)
        {
            head.WriteByte(one[0]);
            if (one[0] is not ((byte)' ' or (byte)'\t' or (byte)'\r' or (byte)'\n' or 0xEF or 0xBB or 0xBF))
            {
                break;
            }
        }
        if (head.Length == 0 || head.GetBuffer()[head.Length - 1] != (byte)'{')
        {
            return (new PrefixedStream(head.ToArray(), sample), false);
        }
        var buffer = new byte[81920];
        int read;
        while ((read = await sample.ReadAsync(buffer, cancellationToken)) > 0)
        {
            if (head.Length + read > Utf8LineReader.MaxLineBytes)
            {
                throw new MalformedInputException(1, 1, $"a single JSON object larger than {Utf8LineReader.MaxLineBytes / (1024 * 1024)} MB");
            }
            head.Write(buffer, 0, read);
        }
        head.Position = 0;
        return (head, true);
    }

    /// <summary>Bytes already read, then the rest of the stream.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : Stream
    {
        private int position;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            if (position < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - position);
                prefix.AsSpan(position, n).CopyTo(buffer);
                position += n;
                return n;
            }
            return rest.Read(buffer);
        }

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            position < prefix.Length ? Read(buffer.Span) : await rest.ReadAsync(buffer, cancellationToken);

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }

    private sealed class SampleFull : Exception;

    private static IReadOnlyList<string> FieldsOf(IEnumerable<Record> records)
    {
        var fields = new List<string>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var record in records)
        {
            foreach (var name in record.Keys)
            {
                if (seen.Add(name))
                {
                    fields.Add(name);
                }
            }
        }
        return fields;
    }

    /// <summary>Deep copies, so a preview never changes when a later step reuses a record instance.</summary>
    private static List<Record> Copy(IEnumerable<Record> records) =>
        records.Select(r => RecordJson.Parse(RecordJson.ToUtf8(r))).ToList();

    private static async IAsyncEnumerable<Record> Counted(IReadOnlyList<Record> records, Action counted)
    {
        foreach (var record in records)
        {
            counted();
            yield return record;
            await Task.CompletedTask;
        }
    }
}
