namespace Lakehouse.Flight.Core;

/// <summary>
/// The row rules of silver <c>prices_daily</c> (prices finite and &gt; 0, low and high around open and close,
/// volume &gt;= 0, a date in <see cref="LakeDates"/>). Returns a reason for the first rule a row breaks.
/// </summary>
public static class BarValidator
{
    /// <summary>The first date a bar may carry (<see cref="LakeDates.Min"/>: one definition for every door).</summary>
    public static readonly DateOnly MinDate = LakeDates.Min;

    public static string? Validate(PriceBar bar, DateOnly today) =>
        Validate(bar.Symbol, bar.Date, bar.Open, bar.High, bar.Low, bar.Close, bar.AdjClose, bar.Volume, today);

    public static string? Validate(string symbol, DateOnly date, double open, double high, double low, double close, double? adjClose,
        long volume, DateOnly today)
    {
        if (!IsPrice(open) || !IsPrice(high) || !IsPrice(low) || !IsPrice(close))
        {
            return $"{symbol} {date:yyyy-MM-dd}: prices must be finite and > 0 (open={open}, high={high}, low={low}, close={close})";
        }
        if (adjClose is { } adj && !IsPrice(adj))
        {
            return $"{symbol} {date:yyyy-MM-dd}: adj_close must be finite and > 0 (got {adj})";
        }
        if (low > Math.Min(open, close))
        {
            return $"{symbol} {date:yyyy-MM-dd}: low {low} is above min(open, close) {Math.Min(open, close)}";
        }
        if (high < Math.Max(open, close))
        {
            return $"{symbol} {date:yyyy-MM-dd}: high {high} is below max(open, close) {Math.Max(open, close)}";
        }
        if (volume < 0)
        {
            return $"{symbol} {date:yyyy-MM-dd}: volume {volume} is negative";
        }
        if (!LakeDates.Accepts(date, today))
        {
            return $"{symbol} {date:yyyy-MM-dd}: date must be between {MinDate:yyyy-MM-dd} and tomorrow";
        }
        return null;
    }

    /// <summary>True when the row breaks no rule: <see cref="Validate(string, DateOnly, double, double, double, double, double?, long, DateOnly)"/> without building a message (the hot path of a write of valid rows).</summary>
    public static bool Passes(DateOnly date, double open, double high, double low, double close, double? adjClose, long volume, DateOnly today) =>
        IsPrice(open) && IsPrice(high) && IsPrice(low) && IsPrice(close) && (adjClose is not { } adj || IsPrice(adj))
        && low <= Math.Min(open, close) && high >= Math.Max(open, close) && volume >= 0 && LakeDates.Accepts(date, today);

    private static bool IsPrice(double v) => double.IsFinite(v) && v > 0;
}
