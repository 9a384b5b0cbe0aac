using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;

namespace Saas.Bench.Flowgate;

public sealed record RunChunksView(long? Total, long Done);

/// <summary>The fields of a run the benchmark looks at.</summary>
public sealed record RunView(string Id, string Status, long? RecordsIn, long? RecordsOut, RunChunksView? Chunks, string? Error)
{
    public bool IsFinished => Status is "succeeded" or "failed" or "cancelled";
}

public sealed record RunPageView(IReadOnlyList<RunView> Items, string? NextCursor);

public sealed record OutputSize(long Bytes, long Lines);

public sealed record UsageTotalView(string Meter, long Quantity);

public sealed record UsageView(IReadOnlyList<UsageTotalView> Items);

/// <summary>The tenant API, as one tenant (its API key in every request).</summary>
public sealed class FlowgateApi : IDisposable
{
    private readonly HttpClient _http;

    public FlowgateApi(Uri baseAddress, string apiKey)
    {
        BaseAddress = baseAddress;
        ApiKey = apiKey;
        _http = new HttpClient { BaseAddress = baseAddress, Timeout = Timeout.InfiniteTimeSpan };
        _http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", apiKey);
    }

    public Uri BaseAddress { get; }

    public string ApiKey { get; }

    public Uri RunsUrl(string pipelineId) => new(BaseAddress, $"/api/v1/pipelines/{pipelineId}/runs?wait=true");

    public async Task<bool> IsHealthyAsync() => (await _http.GetAsync("/healthz")).IsSuccessStatusCode;

    public async Task<string> CreatePipelineAsync(string definition, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync("/api/v1/pipelines", Json(definition), cancellationToken);
        using var created = await ReadAsync(response, "creating the pipeline", cancellationToken);
        return created.RootElement.GetProperty("id").GetString()!;
    }

    public async Task<RunView> RunAndWaitAsync(string pipelineId, string records, CancellationToken cancellationToken)
    {
        using var response = await _http.PostAsync(RunsUrl(pipelineId), Json(records), cancellationToken);
        using var run = await ReadAsync(response, "running the pipeline", cancellationToken);
        return run.Deserialize<RunView>(JsonSerializerOptions.Web)!;
    }

    /// <summary>Streams the file as the request body (never buffered) and returns the run id.</summary>
    public async Task<string> UploadAsync(string pipelineId, string file, CancellationToken cancellationToken)
    {
        await using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        using var content = new StreamContent(stream, 1 << 16);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        using var response = await _http.PostAsync($"/api/v1/pipelines/{pipelineId}/uploads", content, cancellationToken);
        using var run = await ReadAsync(response, "uploading the file", cancellationToken);
        return run.RootElement.GetProperty("id").GetString()!;
    }

    /// <summary>
    /// Posts a JSON array of messages to one of the tenant's queues; a 429 (the tenant's new-work rate) is retried after
    /// its <c>Retry-After</c>, as a well-behaved client does.
    /// </summary>
    /// <returns>How many times the post was refused with 429 before it was accepted.</returns>
    public async Task<int> PostQueueMessagesAsync(string queue, string messages, CancellationToken cancellationToken)
    {
        for (var refused = 0; ; refused++)
        {
            using var response = await _http.PostAsync($"/api/v1/queues/{queue}/messages", Json(messages), cancellationToken);
            if (response.StatusCode == System.Net.HttpStatusCode.TooManyRequests && response.Headers.RetryAfter?.Delta is { } wait)
            {
                await Task.Delay(wait, cancellationToken);
                continue;
            }
            using var accepted = await ReadAsync(response, $"posting to queue {queue}", cancellationToken);
            return refused;
        }
    }

    /// <summary>Creates or replaces a resource by name, e.g. <c>/api/v1/ai/providers/up</c>.</summary>
    public async Task PutAsync(string path, string json, CancellationToken cancellationToken)
    {
        using var response = await _http.PutAsync(path, Json(json), cancellationToken);
        using var saved = await ReadAsync(response, $"PUT {path}", cancellationToken);
    }

    /// <summary>This month's usage per meter, from the ledger (<c>GET /api/v1/usage?groupBy=meter</c>).</summary>
    public async Task<IReadOnlyDictionary<string, long>> UsageByMeterAsync(CancellationToken cancellationToken)
    {
        var usage = (await _http.GetFromJsonAsync<UsageView>("/api/v1/usage?groupBy=meter", JsonSerializerOptions.Web, cancellationToken))!;
        return usage.Items.ToDictionary(i => i.Meter, i => i.Quantity);
    }

    public async Task<RunView> GetRunAsync(string runId, CancellationToken cancellationToken) =>
        (await _http.GetFromJsonAsync<RunView>($"/api/v1/runs/{runId}", JsonSerializerOptions.Web, cancellationToken))!;

    public async Task<long> CountRunsAsync(string status, CancellationToken cancellationToken)
    {
        var count = 0L;
        string? cursor = null;
        do
        {
            var url = $"/api/v1/runs?status={status}&limit=500" + (cursor is null ? "" : $"&cursor={Uri.EscapeDataString(cursor)}");
            var page = (await _http.GetFromJsonAsync<RunPageView>(url, JsonSerializerOptions.Web, cancellationToken))!;
            count += page.Items.Count;
            cursor = page.NextCursor;
        }
        while (cursor is not null);
        return count;
    }

    /// <summary>Reads the run's output to the end, counting bytes and lines (records, for JSONL).</summary>
    public async Task<OutputSize> MeasureOutputAsync(string runId, CancellationToken cancellationToken)
    {
        using var response = await _http.GetAsync($"/api/v1/runs/{runId}/output", HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        response.EnsureSuccessStatusCode();
        await using var body = await response.Content.ReadAsStreamAsync(cancellationToken);
        var buffer = new byte[1 << 16];
        long bytes = 0, lines = 0;
        int read;
        while ((read = await body.ReadAsync(buffer, cancellationToken)) > 0)
        {
            bytes += read;
            lines += buffer.AsSpan(0, read).Count((byte)'\n');
        }
        return new OutputSize(bytes, lines);
    }

    public void Dispose() => _http.Dispose();

    private static StringContent Json(string json) => new(json, Encoding.UTF8, "application/json");

    private static async Task<JsonDocument> ReadAsync(HttpResponseMessage response, string what, CancellationToken cancellationToken)
    {
        var body = await response.Content.ReadAsStringAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"{what} answered {(int)response.StatusCode}: {body}");
        }
        return JsonDocument.Parse(body);
    }
}
