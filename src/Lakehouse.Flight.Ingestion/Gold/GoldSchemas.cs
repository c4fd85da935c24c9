using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Ingestion.Gold;

/// <summary>Arrow schemas of the gold tables, as fixed by DESIGN.md ("Other tables").</summary>
public static class GoldSchemas
{
    /// <summary>
    /// <c>gold/prices_monthly</c>, key (symbol, month). <c>month</c> is the first day of the calendar month;
    /// <c>adj_close</c> is the last trading day's (null when that day has none).
    /// </summary>
    public static readonly Schema PricesMonthly = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("month").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("open").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("high").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("low").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("close").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("adj_close").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("volume").DataType(Int64Type.Default).Nullable(false))
        .Field(f => f.Name("trading_days").DataType(Int32Type.Default).Nullable(false))
        .Build();

    /// <summary>
    /// <c>gold/daily_metrics</c>, key (symbol, date). Everything after <c>close</c> is nullable: a window
    /// that is not full yet is null, never a partial value. See <see cref="GoldCalculator.DailyMetrics"/>.
    /// </summary>
    public static readonly Schema DailyMetrics = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("date").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("close").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("adj_close").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("return").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("log_return").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("sma_20").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("sma_50").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("sma_200").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("vol_20").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("drawdown").DataType(DoubleType.Default).Nullable(true))
        .Build();
}
