using System.Text;

namespace Saas.Bench.Gateway;

/// <summary>What one chat completion answered: status, body and headers (names in any case).</summary>
public sealed record ChatAnswer(int Status, string Body, IReadOnlyDictionary<string, string> Headers)
{
    public string? Header(string name) => Headers.TryGetValue(name, out var value) ? value : null;
}

/// <summary>The request every target gets (the same bytes through wrk), and one-off sends of it for the checks.</summary>
public static class ChatRequest
{
    /// <summary>The model is Flowgate's alias; the upstream ignores it when it comes directly or through Portkey.</summary>
    public const string Body = """{"model":"bench","messages":[{"role":"user","content":"hi"}]}""";

    public static async Task<ChatAnswer> SendAsync(Uri url, IReadOnlyDictionary<string, string> headers, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        using var request = new HttpRequestMessage(HttpMethod.Post, url) { Content = new StringContent(Body, Encoding.UTF8, "application/json") };
        foreach (var (name, value) in headers)
        {
            request.Headers.TryAddWithoutValidation(name, value);
        }
        using var response = await http.SendAsync(request, cancellationToken);
        var answerHeaders = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new ChatAnswer((int)response.StatusCode, await response.Content.ReadAsStringAsync(cancellationToken), answerHeaders);
    }
}
