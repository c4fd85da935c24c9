namespace Lakehouse.Flight.Core;

/// <summary>One daily bar: the row of silver <c>prices_daily</c>.</summary>
public sealed record PriceBar(
    string Symbol,
    DateOnly Date,
    double Open,
    double High,
    double Low,
    double Close,
    double? AdjClose,
    long Volume,
    string Source,
    DateTimeOffset IngestedAt)
{
    /// <summary>True when the market values (not source or ingestion time) are the same.</summary>
    public bool SameValues(PriceBar other) =>
        Open.Equals(other.Open) && High.Equals(other.High) && Low.Equals(other.Low) && Close.Equals(other.Close)
        && Nullable.Equals(AdjClose, other.AdjClose) && Volume == other.Volume;
}
