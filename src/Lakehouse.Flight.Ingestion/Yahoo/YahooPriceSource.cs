using System.Net;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Yahoo.Internal;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Polly.CircuitBreaker;
using Polly.Timeout;

namespace Lakehouse.Flight.Ingestion.Yahoo;

/// <summary>
/// Daily bars and corporate actions from Yahoo Finance's v8 chart API, one request per symbol, a few
/// symbols at a time. Register it with <see cref="YahooServiceCollectionExtensions.AddYahooSource"/>,
/// or, outside a host (the CLI), build one with <see cref="Create"/>.
/// </summary>
public sealed class YahooPriceSource : IPriceSource, IDisposable
{
    public const string SourceName = "yahoo";

    private readonly IHttpClientFactory _httpClientFactory;
    private readonly ITypedHttpClientFactory<YahooChartClient> _typedClientFactory;
    private readonly YahooOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private ServiceProvider? _ownedProvider;

    internal YahooPriceSource(
        IHttpClientFactory httpClientFactory,
        ITypedHttpClientFactory<YahooChartClient> typedClientFactory,
        IOptions<YahooOptions> options,
        TimeProvider time,
        ILogger<YahooPriceSource> logger)
    {
        _httpClientFactory = httpClientFactory;
        _typedClientFactory = typedClientFactory;
        _options = options.Value;
        _time = time;
        _logger = logger;
    }

    public string Name => SourceName;

    /// <summary>
    /// A source with its own small service provider (HTTP client factory, resilience pipeline, rate
    /// limiter), for callers without a host such as the CLI. Dispose it when done.
    /// </summary>
    public static YahooPriceSource Create(YahooOptions options, ILoggerFactory? loggerFactory = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        var services = new ServiceCollection();
        if (loggerFactory is not null)
        {
            services.AddSingleton(loggerFactory);
        }
        services.AddLogging();
        services.AddYahooSource(configure: options.CopyTo);
        var provider = services.BuildServiceProvider();
        try
        {
            var source = provider.GetRequiredService<YahooPriceSource>();
            source._ownedProvider = provider;
            return source;
        }
        catch (OptionsValidationException ex)
        {
            provider.Dispose();
            throw LakehouseException.Invalid(string.Join("; ", ex.Failures));
        }
        catch
        {
            provider.Dispose();
            throw;
        }
    }

    public async IAsyncEnumerable<SourceResult> FetchAsync(SourceRequest request, [EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var from = request.From ?? throw LakehouseException.Invalid("the yahoo source needs a start date (date_from / --from)");
        var to = request.To ?? throw LakehouseException.Invalid("the yahoo source needs an end date (date_to / --to)");
        if (from > to)
        {
            throw LakehouseException.Invalid($"date_from {from:yyyy-MM-dd} is after date_to {to:yyyy-MM-dd}");
        }
        // 'aapl' and 'AAPL' are one symbol: one request, one result. Invalid ones pass through to fail alone.
        var symbols = request.Symbols
            .Select(s => Symbols.TryNormalize(s, out var normalized, out _) ? normalized : s)
            .Distinct(StringComparer.Ordinal)
            .ToArray();
        var client = _typedClientFactory.CreateClient(_httpClientFactory.CreateClient(YahooChartClient.HttpClientName));

        // Workers write results as they finish; the caller reads them in completion order.
        var results = Channel.CreateUnbounded<SourceResult>(new UnboundedChannelOptions { SingleReader = true });
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var workers = Task.Run(async () =>
        {
            try
            {
                var parallel = new ParallelOptions { MaxDegreeOfParallelism = _options.MaxConcurrency, CancellationToken = stop.Token };
                await Parallel.ForEachAsync(symbols, parallel, async (symbol, ct) =>
                    await results.Writer.WriteAsync(await FetchOneAsync(client, symbol, from, to, ct).ConfigureAwait(false), ct).ConfigureAwait(false))
                    .ConfigureAwait(false);
                results.Writer.TryComplete();
            }
            catch (Exception ex)
            {
                results.Writer.TryComplete(ex);
            }
        }, CancellationToken.None);
        try
        {
            await foreach (var result in results.Reader.ReadAllAsync(cancellationToken).ConfigureAwait(false))
            {
                yield return result;
            }
        }
        finally
        {
            // The caller may stop early: stop the workers and wait so no request outlives the enumeration.
            await stop.CancelAsync().ConfigureAwait(false);
            await workers.ConfigureAwait(false);
        }
    }

    public void Dispose() => _ownedProvider?.Dispose();

    private async Task<SourceResult> FetchOneAsync(YahooChartClient client, string requested, DateOnly from, DateOnly to, CancellationToken cancellationToken)
    {
        if (!Symbols.TryNormalize(requested, out var symbol, out var invalid))
        {
            return SourceResult.Failed(requested, invalid);
        }
        SourceResult result;
        try
        {
            var response = await client.GetChartAsync(symbol, from, to, cancellationToken).ConfigureAwait(false);
            result = Interpret(symbol, response, from, to, Now());
        }
        catch (YahooRequestException ex)
        {
            result = SourceResult.Failed(symbol, Describe(symbol, ex));
        }
        catch (YahooHandshakeException ex)
        {
            result = SourceResult.Failed(symbol, $"{ex.Message} (symbol {symbol})");
        }
        catch (Exception ex) when (!cancellationToken.IsCancellationRequested)
        {
            // One symbol never stops the others: anything unforeseen (a handshake that cannot connect,
            // a number outside double's range) becomes that symbol's error.
            result = SourceResult.Failed(symbol, $"yahoo fetch of {symbol} failed: {ex.GetType().Name}: {ex.Message}");
        }
        if (result.Error is { } error)
        {
            YahooLog.SymbolFailed(_logger, symbol, error);
        }
        else
        {
            YahooLog.SymbolFetched(_logger, symbol, result.Bars.Count, result.Actions.Count, result.Rejected.Count);
        }
        return result;
    }

    private SourceResult Interpret(string symbol, YahooResponse response, DateOnly from, DateOnly to, DateTimeOffset ingestedAt)
    {
        var status = (int)response.Status;
        if (response.Status == HttpStatusCode.OK)
        {
            return YahooChartParser.Parse(response.Body, symbol, from, to, ingestedAt);
        }
        if (response.Status == HttpStatusCode.NotFound)
        {
            return SourceResult.Failed(symbol, YahooChartParser.UnknownSymbol(symbol));
        }
        var description = YahooChartParser.ErrorDescription(response.Body);
        if (description is not null && YahooChartParser.IsNoDataInRange(description))
        {
            return new SourceResult(symbol, [], [], []);
        }
        if (description is not null && YahooChartParser.IsUnknownSymbol(description))
        {
            return SourceResult.Failed(symbol, YahooChartParser.UnknownSymbol(symbol));
        }
        var answered = $"yahoo answered {status} {response.ReasonPhrase} for {symbol}";
        return status switch
        {
            401 => SourceResult.Failed(symbol, $"{answered} even after the cookie + crumb handshake; Yahoo may be blocking this address, try later"),
            429 or >= 500 => SourceResult.Failed(symbol,
                $"{answered} after {response.Retries} retries; try later, or lower {YahooOptions.SectionName}:RequestsPerSecond"),
            _ => SourceResult.Failed(symbol, description is null ? answered : $"{answered}: {description}"),
        };
    }

    private string Describe(string symbol, YahooRequestException ex)
    {
        var retries = $"after {ex.Retries} retries";
        return ex.InnerException switch
        {
            TimeoutRejectedException or OperationCanceledException => $"yahoo did not answer for {symbol} in time {retries} ({ex.Message}); "
                + $"raise {YahooOptions.SectionName}:AttemptTimeout ({_options.AttemptTimeout}) or TotalTimeout ({_options.TotalTimeout}), or try later",
            BrokenCircuitException => $"yahoo requests for {symbol} were not sent: too many recent requests failed, so the circuit is open for {_options.CircuitBreakDuration}; try later",
            HttpRequestException http => $"could not reach yahoo for {symbol} {retries}: {http.Message}; check the network and {YahooOptions.SectionName}:BaseUrl ({_options.BaseUrl})",
            _ => $"yahoo request for {symbol} failed {retries}: {ex.Message}",
        };
    }

    /// <summary>Ingestion time at the microsecond precision of the <c>ingested_at</c> column.</summary>
    private DateTimeOffset Now()
    {
        var now = _time.GetUtcNow();
        return new DateTimeOffset(now.UtcTicks - (now.UtcTicks % 10), TimeSpan.Zero);
    }
}
