using Apache.Arrow;

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
    public static readonly Schema PricesMonthlySchema = TableColumn.Schema(PricesMonthlyColumns.Symbol, PricesMonthlyColumns.Month,
        PricesMonthlyColumns.Open, PricesMonthlyColumns.High, PricesMonthlyColumns.Low, PricesMonthlyColumns.Close,
        PricesMonthlyColumns.AdjClose, PricesMonthlyColumns.Volume, PricesMonthlyColumns.TradingDays);

    /// <summary>
    /// <c>gold/daily_metrics</c>, key (symbol, date). Everything after <c>adj_close</c> is nullable: a window
    /// that is not full yet is null, never a partial value.
    /// </summary>
    public static readonly Schema DailyMetricsSchema = TableColumn.Schema(DailyMetricsColumns.Symbol, DailyMetricsColumns.Date,
        DailyMetricsColumns.Close, DailyMetricsColumns.AdjClose, DailyMetricsColumns.Return, DailyMetricsColumns.LogReturn,
        DailyMetricsColumns.Sma20, DailyMetricsColumns.Sma50, DailyMetricsColumns.Sma200, DailyMetricsColumns.Vol20,
        DailyMetricsColumns.Drawdown);

    // Bands: a year of daily metrics per file, as silver; a decade of monthly bars (12 rows a symbol a year), so
    // a data file holds enough rows. SymbolYear is only the seed layout's shape (export, migration).
    public static readonly TableDefinition PricesMonthly = new(Layer.Gold, PricesMonthlyName, PricesMonthlySchema, [PricesMonthlyColumns.Symbol.Name, PricesMonthlyColumns.Month.Name],
        Partitioning.SymbolYear, WriteMode.Upsert, derived: true,
        description: "monthly bars derived from silver prices_daily, one row per (symbol, month)", bandYears: 10)
    {
        // The current month's bar changes every trading day: its rows stay in a small file of their own (and the last
        // month's, for a late correction) instead of being merged into the decade's large files, which every daily
        // append would then rewrite (docs/decisions.md D43).
        HotDays = 45,
    };

    public static readonly TableDefinition DailyMetrics = new(Layer.Gold, DailyMetricsName, DailyMetricsSchema, [DailyMetricsColumns.Symbol.Name, DailyMetricsColumns.Date.Name],
        Partitioning.SymbolYear, WriteMode.Upsert, derived: true,
        description: "returns, SMA 20/50/200, 20-day volatility and drawdown derived from silver prices_daily, one row per (symbol, date)");
}
