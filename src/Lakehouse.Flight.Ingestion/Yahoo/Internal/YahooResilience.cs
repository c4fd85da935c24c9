using System.Threading.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly;

namespace Lakehouse.Flight.Ingestion.Yahoo.Internal;

/// <summary>
/// The resilience pipeline of the Yahoo client, outermost first: total timeout, retry (exponential
/// backoff with jitter, <c>Retry-After</c> honoured), circuit breaker, rate limiter, attempt timeout.
/// The rate limiter sits inside the retry so every attempt, retries included, waits for a token.
/// </summary>
internal static class YahooResilience
{
    public const string PipelineName = "yahoo";

    /// <summary>Retries done for one request, counted on the <see cref="ResilienceContext"/> the client passes in.</summary>
    public static readonly ResiliencePropertyKey<int> RetriesKey = new("Lakehouse.Yahoo.Retries");

    public static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<YahooOptions>>().Value;
        var limiter = services.GetRequiredService<YahooRateLimiter>().Limiter;
        var time = services.GetRequiredService<TimeProvider>();
        var logger = services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(YahooPriceSource));

        pipeline.AddTimeout(options.TotalTimeout);
        if (options.MaxRetries > 0)
        {
            pipeline.AddRetry(new HttpRetryStrategyOptions
            {
                MaxRetryAttempts = options.MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = options.RetryBaseDelay,
                MaxDelay = options.MaxRetryDelay,
                // Our own generator reads both forms of Retry-After (seconds and HTTP date).
                ShouldRetryAfterHeader = false,
                DelayGenerator = args => ValueTask.FromResult(RetryAfter(args.Outcome.Result, time, options.MaxRetryDelay)),
                OnRetry = args =>
                {
                    args.Context.Properties.Set(RetriesKey, args.AttemptNumber + 1);
                    var outcome = args.Outcome.Result is { } r ? $"{(int)r.StatusCode} {r.ReasonPhrase}" : args.Outcome.Exception?.GetType().Name ?? "unknown";
                    YahooLog.Retrying(logger, args.Outcome.Result?.RequestMessage?.RequestUri?.GetLeftPart(UriPartial.Path), outcome, args.AttemptNumber + 1, args.RetryDelay);
                    return default;
                },
            });
        }
        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            // Open only when most of a sizeable sample fails: one bad symbol must not stop the others.
            FailureRatio = 0.5,
            MinimumThroughput = 20,
            SamplingDuration = TimeSpan.FromSeconds(60),
            BreakDuration = options.CircuitBreakDuration,
        });
        pipeline.AddRateLimiter(limiter);
        pipeline.AddTimeout(options.AttemptTimeout);
    }

    /// <summary>The wait a 429/503 asks for, capped; null lets the exponential backoff decide.</summary>
    internal static TimeSpan? RetryAfter(HttpResponseMessage? response, TimeProvider time, TimeSpan max)
    {
        var header = response?.Headers.RetryAfter;
        TimeSpan? wait = header switch
        {
            { Delta: { } delta } => delta,
            { Date: { } date } => date - time.GetUtcNow(),
            _ => null,
        };
        return wait is { } w ? TimeSpan.FromTicks(Math.Clamp(w.Ticks, 0, max.Ticks)) : null;
    }
}

/// <summary>
/// The token bucket every request of the source draws from (a singleton, so concurrent symbols and
/// retries share it). Requests queue for a token rather than fail.
/// </summary>
internal sealed class YahooRateLimiter : IDisposable
{
    public YahooRateLimiter(IOptions<YahooOptions> options)
    {
        var perSecond = options.Value.RequestsPerSecond;
        Limiter = new TokenBucketRateLimiter(new TokenBucketRateLimiterOptions
        {
            // A burst of at most one second's worth, then one token every 1/rate seconds.
            TokenLimit = Math.Max(1, (int)Math.Floor(perSecond)),
            TokensPerPeriod = 1,
            ReplenishmentPeriod = TimeSpan.FromSeconds(1 / perSecond),
            QueueLimit = int.MaxValue,
            QueueProcessingOrder = QueueProcessingOrder.OldestFirst,
            AutoReplenishment = true,
        });
    }

    public RateLimiter Limiter { get; }

    public void Dispose() => Limiter.Dispose();
}
