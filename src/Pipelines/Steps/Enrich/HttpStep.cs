using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Saas.Pipelines.Definitions;
using Saas.Pipelines.Expressions;
using Saas.Pipelines.Formats;
using Saas.Pipelines.Network;
using Saas.Pipelines.Records;
using Saas.Pipelines.Secrets;

namespace Saas.Pipelines.Steps.Enrich;

/// <summary>What an HTTP step does with a record whose call or mapping failed.</summary>
public enum OnError
{
    /// <summary>Fail the run, naming the record.</summary>
    Fail,

    /// <summary>Drop the record.</summary>
    Skip,

    /// <summary>Keep the record with the mapped fields set to null and the error in the error field.</summary>
    Null,
}

/// <summary>
/// Calls a URL for each record through the network guard and maps the JSON answer into fields:
/// <c>{"type":"http","url":"https://api.example.com/customers/{{record.id}}","headers":{"Authorization":"Bearer {{secrets.crm}}"},
/// "fields":{"tier":"response.tier"}}</c>. Calls run concurrently (bounded); records leave in the order they came.
/// </summary>
public sealed class HttpStep : IStep, IReferencesResources
{
    private static readonly string[] Methods = ["GET", "POST", "PUT", "PATCH", "DELETE"];
    private static readonly string[] OnErrorNames = ["fail", "skip", "null"];

    private Template _url = null!;
    private HttpMethod _method = HttpMethod.Get;
    private IReadOnlyList<(string Name, Template Value)> _headers = [];
    private BodyTemplate? _body;
    private TimeSpan _timeout;
    private int _retries;
    private int _concurrency;
    private int _requestsPerSecond;
    private TimeSpan _cacheTtl;
    private OnError _onError;
    private string _errorField = "_error";
    private IReadOnlyList<KeyValuePair<string, CompiledExpression>> _fields = [];
    private readonly List<ResourceReference> _references = [];

    public IReadOnlyList<ResourceReference> References => _references;

    internal static IStep? Compile(JsonObjectReader step)
    {
        var http = new HttpStep();
        var errors = step.Errors.Count;
        var url = step.String("url", required: true, "e.g. \"https://api.example.com/customers/{{record.id}}\"");
        if (url is not null)
        {
            http._url = Template.Compile(step, step.At("url"), url, allowSecrets: false)!;
            if (http._url is not null && !HasLiteralHost(http._url.Prefix, whole: http._url.Prefix.Length == url.Length))
            {
                step.Error(step.At("url"), "must start with http:// or https:// and a host written out, e.g. \"https://api.example.com/customers/{{record.id}}\" (the scheme and host may not come from the record)");
            }
        }
        var method = step.OneOf("method", Methods, required: false, fallback: "GET");
        http._method = new HttpMethod(method ?? "GET");
        if (step.Property("headers") is not null)
        {
            var headers = new List<(string, Template)>();
            foreach (var (name, value) in step.StringMap("headers", "header value template"))
            {
                var path = $"{step.At("headers")}.{name}";
                if (name.Equals("Host", StringComparison.OrdinalIgnoreCase) || name.Contains(':') || name.Any(char.IsWhiteSpace))
                {
                    step.Error(path, "is not a header the step may set");
                    continue;
                }
                if (Template.Compile(step, path, value, allowSecrets: true) is { } template)
                {
                    headers.Add((name, template));
                    http._references.AddRange(template.SecretNames.Select(s => new ResourceReference(path, ResourceKinds.Secret, s)));
                }
            }
            http._headers = headers;
        }
        if (step.Property("body") is { } body)
        {
            if (http._method == HttpMethod.Get)
            {
                step.Error(step.At("body"), "a GET request has no body; set \"method\" to POST, PUT or PATCH");
            }
            http._body = BodyTemplate.Compile(step, step.At("body"), body);
            if (http._body is not null)
            {
                http._references.AddRange(http._body.SecretNames.Select(s => new ResourceReference(step.At("body"), ResourceKinds.Secret, s)));
            }
        }
        http._timeout = TimeSpan.FromSeconds(step.Int("timeoutSeconds", 10, 1, 120));
        http._retries = step.Int("retries", 3, 0, 10);
        http._concurrency = step.Int("concurrency", 8, 1, 64);
        http._requestsPerSecond = step.Int("requestsPerSecond", 0, 0, 10_000);
        http._cacheTtl = TimeSpan.FromSeconds(step.Int("cacheSeconds", 0, 0, 86_400));
        http._onError = (step.OneOf("onError", OnErrorNames, required: false, fallback: "fail") ?? "fail") switch
        {
            "skip" => OnError.Skip,
            "null" => OnError.Null,
            _ => OnError.Fail,
        };
        http._errorField = step.String("errorField", required: false) ?? "_error";
        if (step.Property("errorField") is not null && http._onError != OnError.Null)
        {
            step.Error(step.At("errorField"), "applies only with \"onError\": \"null\"");
        }
        http._fields = CompileFields(step);
        return step.Errors.Count == errors ? http : null;
    }

    /// <summary>The text before the first hole holds the scheme and the whole host (it ends after them, or goes on with '/', '?' or '#').</summary>
    private static bool HasLiteralHost(string prefix, bool whole)
    {
        var scheme = prefix.StartsWith("https://", StringComparison.OrdinalIgnoreCase) ? 8 : prefix.StartsWith("http://", StringComparison.OrdinalIgnoreCase) ? 7 : -1;
        if (scheme < 0)
        {
            return false;
        }
        var end = prefix.IndexOfAny(['/', '?', '#'], scheme);
        return end > scheme || (whole && prefix.Length > scheme);
    }

    /// <summary>Field expressions see <c>response</c> (the parsed answer) and <c>record</c> (the input record).</summary>
    private static IReadOnlyList<KeyValuePair<string, CompiledExpression>> CompileFields(JsonObjectReader step)
    {
        var compiled = new List<KeyValuePair<string, CompiledExpression>>();
        foreach (var (name, source) in step.StringMap("fields", "JavaScript expression over `response` and `record`, e.g. \"response.tier\""))
        {
            // Checked alone first, so errors point into what the user wrote; it is a single expression, so wrapping it is safe.
            if (Transform.ExpressionFields.CompileOne(step, $"{step.At("fields")}.{name}", source) is null)
            {
                continue;
            }
            var scoped = ExpressionCompiler.TryCompile($"((record, response) => ({source}))(record.record, record.response)", ExpressionLimits.Default, out var error);
            if (scoped is null)
            {
                step.Error($"{step.At("fields")}.{name}", $"expression does not parse: {error}");
                continue;
            }
            compiled.Add(new(name, scoped));
        }
        return compiled;
    }

    public async IAsyncEnumerable<Record> ExecuteAsync(
        IAsyncEnumerable<Record> input,
        StepContext context,
        [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var call = new Call(this, context);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var pending = new Queue<Task<Record?>>();
        try
        {
            long number = 0;
            await foreach (var record in input.WithCancellation(cancellationToken))
            {
                if (pending.Count >= _concurrency && await pending.Dequeue() is { } first)
                {
                    yield return first;
                }
                pending.Enqueue(call.RunAsync(record, ++number, stop.Token));
                while (pending.Count > 0 && pending.Peek().IsCompleted)
                {
                    if (await pending.Dequeue() is { } done)
                    {
                        yield return done;
                    }
                }
            }
            while (pending.Count > 0)
            {
                if (await pending.Dequeue() is { } done)
                {
                    yield return done;
                }
            }
        }
        finally
        {
            // A failed record ends the step: calls still in flight for later records are abandoned.
            await stop.CancelAsync();
            call.Dispose();
        }
    }

    /// <summary>One execution's view of the step: its client, the secrets it revealed, the shared cache and rate gates.</summary>
    private sealed class Call : IDisposable
    {
        private readonly HttpStep _step;
        private readonly StepContext _context;
        private readonly HttpClient _client;
        private readonly OutboundRetry _retry;
        private readonly HttpResponseCache _cache;
        private readonly HostRateGates _gates;
        private readonly TenantSecrets _secrets;
        private readonly Dictionary<string, string> _revealed = new(StringComparer.Ordinal);

        public Call(HttpStep step, StepContext context)
        {
            _step = step;
            _context = context;
            _client = context.Services.GetRequiredService<GuardedHttpClientFactory>().CreateClient();
            _retry = new OutboundRetry(step._retries, step._timeout, context.Services.GetRequiredService<TimeProvider>());
            _cache = context.Services.GetRequiredService<HttpResponseCache>();
            _gates = context.Services.GetRequiredService<HostRateGates>();
            _secrets = context.Services.GetRequiredService<TenantSecrets>();
        }

        public void Dispose() => _client.Dispose();

        private string Secret(string name)
        {
            lock (_revealed)
            {
                if (!_revealed.TryGetValue(name, out var value))
                {
                    _revealed[name] = value = _secrets.Reveal(_context.TenantId, name);
                }
                return value;
            }
        }

        public async Task<Record?> RunAsync(Record record, long number, CancellationToken cancellationToken)
        {
            await Task.Yield();
            Uri? url = null;
            string error;
            try
            {
                var text = _step._url.Render(record, _ => "", Uri.EscapeDataString);
                if (!Uri.TryCreate(text, UriKind.Absolute, out url))
                {
                    throw new RecordException($"the URL '{text}' is not valid");
                }
                var headers = _step._headers.Select(h => (h.Name, Value: h.Value.Render(record, Secret))).ToList();
                var body = _step._body?.Render(record, Secret);
                object? response;
                var key = _step._cacheTtl > TimeSpan.Zero ? CacheKey(url, headers, body) : null;
                if (key is null || !_cache.TryGet(_context.TenantId, key, out response))
                {
                    if (_step._requestsPerSecond > 0)
                    {
                        await _gates.WaitAsync(_context, url.Authority, _step._requestsPerSecond, cancellationToken);
                    }
                    using var answer = await _retry.SendAsync(_client, () => Request(url, headers, body), cancellationToken);
                    var bytes = await answer.Content.ReadAsByteArrayAsync(cancellationToken);
                    if (!answer.IsSuccessStatusCode)
                    {
                        throw new OutboundCallFailedException($"answered {(int)answer.StatusCode} {answer.ReasonPhrase}".TrimEnd()
                            + (OutboundRetry.IsRetryable(answer.StatusCode) && _step._retries > 0 ? $" after {_step._retries + 1} attempts" : ""));
                    }
                    response = Parse(bytes);
                    if (key is not null && bytes.Length <= HttpResponseCache.MaxEntryBytes)
                    {
                        _cache.Set(_context.TenantId, key, response, _step._cacheTtl);
                    }
                }
                return Map(record, response);
            }
            catch (MissingSecretException)
            {
                throw;
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (e is OutboundCallFailedException or OutboundCallRefusedException or HttpRequestException or RecordException or ExpressionException)
            {
                error = url is null ? e.Message : $"{_step._method} {OutboundUrlPolicy.Redacted(url)}: {e.Message}";
            }
            switch (_step._onError)
            {
                case OnError.Skip:
                    return null;
                case OnError.Null:
                    var output = Copy(record);
                    foreach (var (name, _) in _step._fields)
                    {
                        output[name] = null;
                    }
                    output[_step._errorField] = error;
                    return output;
                default:
                    throw new RecordFailedException(number, record, new RecordException(error));
            }
        }

        private HttpRequestMessage Request(Uri url, List<(string Name, string Value)> headers, byte[]? body)
        {
            var request = new HttpRequestMessage(_step._method, url);
            if (body is not null)
            {
                request.Content = new ByteArrayContent(body);
                request.Content.Headers.TryAddWithoutValidation("Content-Type", _step._body!.IsJson ? "application/json" : "text/plain; charset=utf-8");
            }
            foreach (var (name, value) in headers)
            {
                if (request.Content is not null && name.StartsWith("Content-", StringComparison.OrdinalIgnoreCase))
                {
                    request.Content.Headers.Remove(name);
                    request.Content.Headers.TryAddWithoutValidation(name, value);
                }
                else
                {
                    request.Headers.TryAddWithoutValidation(name, value);
                }
            }
            return request;
        }

        private Record Map(Record record, object? response)
        {
            var output = Copy(record);
            var scope = new Record(2) { ["record"] = record, ["response"] = response };
            foreach (var (name, expression) in _step._fields)
            {
                output[name] = expression.Evaluate(scope);
            }
            return output;
        }

        private Record Copy(Record record)
        {
            var output = new Record(record.Count + _step._fields.Count + 1);
            foreach (var (name, value) in record)
            {
                output[name] = value;
            }
            return output;
        }

        /// <summary>JSON when it parses, else the text; an empty answer is null.</summary>
        private static object? Parse(byte[] bytes)
        {
            if (bytes.Length == 0)
            {
                return null;
            }
            try
            {
                return RecordJson.ParseValue(bytes);
            }
            catch (Exception e) when (e is JsonException or RecordException)
            {
                return Encoding.UTF8.GetString(bytes);
            }
        }

        /// <summary>Everything that makes the request what it is; hashed, so secrets in headers are not kept in clear as keys.</summary>
        private string CacheKey(Uri url, List<(string Name, string Value)> headers, byte[]? body)
        {
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            hash.AppendData(Encoding.UTF8.GetBytes($"{_context.PipelineId}\n{_context.StepId}\n{_step._method}\n{url.AbsoluteUri}\n"));
            foreach (var (name, value) in headers)
            {
                hash.AppendData(Encoding.UTF8.GetBytes($"{name}:{value}\n"));
            }
            if (body is not null)
            {
                hash.AppendData(body);
            }
            return Convert.ToHexString(hash.GetHashAndReset());
        }
    }
}
