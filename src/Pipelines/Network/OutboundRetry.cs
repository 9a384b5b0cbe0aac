using System.Net;

namespace Saas.Pipelines.Network;

/// <summary>
/// Sends an outbound request again on 429, 5xx, timeouts and connection failures, waiting as the answer's
/// Retry-After asks or else exponentially (with jitter). Refusals by the network guard are never retried.
/// </summary>
public sealed class OutboundRetry(int retries, TimeSpan timeout, TimeProvider time)
{
    /// <summary>Longer Retry-After answers are not waited for: the call fails, saying what was asked.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromSeconds(60);

    public TimeSpan BaseDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    /// <summary>Sends until an answer that is not worth retrying, or the retries run out.</summary>
    /// <param name="request">Builds the request for an attempt (a request message can be sent only once).</param>
    /// <returns>The last answer, successful or not; the caller disposes it.</returns>
    /// <exception cref="OutboundCallFailedException">The last attempt timed out or could not connect.</exception>
    public async Task<HttpResponseMessage> SendAsync(HttpClient client, Func<HttpRequestMessage> request, CancellationToken cancellationToken)
    {
        for (var attempt = 1; ; attempt++)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(timeout);
            TimeSpan? retryAfter = null;
            string failure;
            try
            {
                using var message = request();
                var response = await client.SendAsync(message, HttpCompletionOption.ResponseContentRead, deadline.Token);
                if (!IsRetryable(response.StatusCode) || attempt > retries)
                {
                    return response;
                }
                retryAfter = RetryAfter(response);
                failure = $"answered {(int)response.StatusCode}";
                response.Dispose();
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                failure = $"timed out after {timeout.TotalSeconds:0.###} s";
                if (attempt > retries)
                {
                    throw new OutboundCallFailedException($"{failure} ({Attempts(attempt)})");
                }
            }
            catch (HttpRequestException e) when (Refusal(e) is { } refused)
            {
                System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(refused);
                throw;
            }
            catch (HttpRequestException e)
            {
                failure = $"could not be reached: {e.Message}";
                if (attempt > retries)
                {
                    throw new OutboundCallFailedException($"{failure} ({Attempts(attempt)})");
                }
            }
            if (retryAfter > MaxRetryAfter)
            {
                throw new OutboundCallFailedException($"{failure} and asked to retry after {retryAfter.Value.TotalSeconds:0} s, longer than the {MaxRetryAfter.TotalSeconds:0} s Flowgate waits ({Attempts(attempt)})");
            }
            var delay = retryAfter ?? BaseDelay * Math.Pow(2, attempt - 1) * (0.5 + Random.Shared.NextDouble() / 2);
            await Task.Delay(delay, time, cancellationToken);
        }
    }

    public static bool IsRetryable(HttpStatusCode status) => status == HttpStatusCode.TooManyRequests || (int)status >= 500;

    /// <summary>The guard's refusal when buffering the answer wrapped it (an answer over the size limit).</summary>
    private static OutboundCallRefusedException? Refusal(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
        {
            if (e is OutboundCallRefusedException refused)
            {
                return refused;
            }
        }
        return null;
    }

    private static string Attempts(int attempts) => attempts == 1 ? "1 attempt" : $"{attempts} attempts";

    private TimeSpan? RetryAfter(HttpResponseMessage response)
    {
        if (response.Headers.RetryAfter is not { } header)
        {
            return null;
        }
        if (header.Delta is { } delta)
        {
            return delta < TimeSpan.Zero ? TimeSpan.Zero : delta;
        }
        if (header.Date is { } date)
        {
            var wait = date - time.GetUtcNow();
            return wait < TimeSpan.Zero ? TimeSpan.Zero : wait;
        }
        return null;
    }
}

/// <summary>An outbound call failed after its retries; the message says how, never with secrets.</summary>
public sealed class OutboundCallFailedException(string message) : Exception(message);
