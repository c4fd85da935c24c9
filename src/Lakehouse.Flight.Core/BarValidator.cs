namespace Lakehouse.Flight.Core;

/// <summary>The silver rules of DESIGN.md. Returns a reason for the first rule a row breaks.</summary>
public static class BarValidator
{
    public static readonly DateOnly MinDate = new(1900, 1, 1);

    public static string? Validate(PriceBar bar, DateOnly today)
    {
        if (!IsPrice(bar.Open) || !IsPrice(bar.High) || !IsPrice(bar.Low) || !IsPrice(bar.Close))
        {
            return $"{bar.Symbol} {bar.Date:yyyy-MM-dd}: prices must be finite and > 0 (open={bar.Open}, high={bar.High}, low={bar.Low}, close={bar.Close})";
        }
        if (bar.AdjClose is { } adj && !IsPrice(adj))
        {
            return $"{bar.Symbol} {bar.Date:yyyy-MM-dd}: adj_close must be finite and > 0 (got {adj})";
        }
        if (bar.Low > Math.Min(bar.Open, bar.Close))
        {
            return $"{bar.Symbol} {bar.Date:yyyy-MM-dd}: low {bar.Low} is above min(open, close) {Math.Min(bar.Open, bar.Close)}";
        }
        if (bar.High < Math.Max(bar.Open, bar.Close))
        {
            return $"{bar.Symbol} {bar.Date:yyyy-MM-dd}: high {bar.High} is below max(open, close) {Math.Max(bar.Open, bar.Close)}";
        }
        if (bar.Volume < 0)
        {
            return $"{bar.Symbol} {bar.Date:yyyy-MM-dd}: volume {bar.Volume} is negative";
        }
        if (bar.Date < MinDate || bar.Date > today.AddDays(1))
        {
            return $"{bar.Symbol} {bar.Date:yyyy-MM-dd}: date must be between {MinDate:yyyy-MM-dd} and tomorrow";
        }
        return null;
    }

    private static bool IsPrice(double v) => double.IsFinite(v) && v > 0;
}
