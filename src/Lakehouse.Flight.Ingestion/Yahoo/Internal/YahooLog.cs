using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Ingestion.Yahoo.Internal;

internal static partial class YahooLog
{
    [LoggerMessage(EventId = 1, Level = LogLevel.Warning, Message = "Yahoo request {Uri} failed ({Outcome}); retry {Retry} in {Delay}")]
    public static partial void Retrying(ILogger logger, string? uri, string outcome, int retry, TimeSpan delay);

    [LoggerMessage(EventId = 2, Level = LogLevel.Information, Message = "Yahoo answered 401; fetching a cookie from {CookieUrl} and a crumb")]
    public static partial void Handshake(ILogger logger, string cookieUrl);

    [LoggerMessage(EventId = 3, Level = LogLevel.Warning, Message = "Yahoo fetch of {Symbol} failed: {Error}")]
    public static partial void SymbolFailed(ILogger logger, string symbol, string error);

    [LoggerMessage(EventId = 4, Level = LogLevel.Debug, Message = "Yahoo fetched {Symbol}: {Bars} bars, {Actions} actions, {Rejected} rejected")]
    public static partial void SymbolFetched(ILogger logger, string symbol, int bars, int actions, int rejected);
}
