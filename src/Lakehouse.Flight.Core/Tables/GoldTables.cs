using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>
/// The gold tables: derived from silver <c>prices_daily</c> by the gold builder, never written by users (DoPut
/// refuses them). Their schemas are part of the product's contract with other engines.
/// </summary>
public static class GoldTables
{
    public const string PricesMonthlyName = "prices_monthly";
    public const string DailyMetricsName = "daily_metrics";

    /// <summary>
    /// <c>gold/prices_monthly</c>, key (symbol, month). <c>month</c> is the first day of the calendar month;
    /// <c>adj_close</c> is the last trading day's (null when that day has none).
    /// </summary>
    public static readonly Schema PricesMonthlySchema = new Schema.Builder()
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
    /// <c>gold/daily_metrics</c>, key (symbol, date). Everything after <c>adj_close</c> is nullable: a window
    /// that is not full yet is null, never a partial value.
    /// </summary>
    public static readonly Schema DailyMetricsSchema = new Schema.Builder()
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

    // Bands: a year of daily metrics per file, as silver; a decade of monthly bars (12 rows a symbol a year), so
    // a data file holds enough rows. SymbolYear is only the seed layout's shape (export, migration).
    public static readonly TableDefinition PricesMonthly = new(Layer.Gold, PricesMonthlyName, PricesMonthlySchema, ["symbol", "month"],
        Partitioning.SymbolYear, WriteMode.Upsert, derived: true,
        description: "monthly bars derived from silver prices_daily, one row per (symbol, month)", bandYears: 10);

    public static readonly TableDefinition DailyMetrics = new(Layer.Gold, DailyMetricsName, DailyMetricsSchema, ["symbol", "date"],
        Partitioning.SymbolYear, WriteMode.Upsert, derived: true,
        description: "returns, SMA 20/50/200, 20-day volatility and drawdown derived from silver prices_daily, one row per (symbol, date)");
}
