using Apache.Arrow;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>The columns of gold <c>prices_monthly</c>, in declared order.</summary>
public static class PricesMonthlyColumns
{
    private const string Table = GoldTables.PricesMonthlyName;

    public static readonly TableColumn<StringArray> Symbol = TableColumn.Utf8(Table, TableDefinition.SymbolColumn);

    /// <summary>The first day of the calendar month.</summary>
    public static readonly TableColumn<Date32Array> Month = TableColumn.Date32(Table, "month");
    public static readonly TableColumn<DoubleArray> Open = TableColumn.Float64(Table, "open");
    public static readonly TableColumn<DoubleArray> High = TableColumn.Float64(Table, "high");
    public static readonly TableColumn<DoubleArray> Low = TableColumn.Float64(Table, "low");
    public static readonly TableColumn<DoubleArray> Close = TableColumn.Float64(Table, "close");

    /// <summary>The last trading day's adj_close; null when that day has none.</summary>
    public static readonly TableColumn<DoubleArray> AdjClose = TableColumn.Float64(Table, "adj_close", nullable: true);
    public static readonly TableColumn<Int64Array> Volume = TableColumn.Int64(Table, "volume");
    public static readonly TableColumn<Int32Array> TradingDays = TableColumn.Int32(Table, "trading_days");
}

/// <summary>The columns of gold <c>daily_metrics</c>, in declared order. A window that is not full yet is null.</summary>
public static class DailyMetricsColumns
{
    private const string Table = GoldTables.DailyMetricsName;

    public static readonly TableColumn<StringArray> Symbol = TableColumn.Utf8(Table, TableDefinition.SymbolColumn);
    public static readonly TableColumn<Date32Array> Date = TableColumn.Date32(Table, "date");
    public static readonly TableColumn<DoubleArray> Close = TableColumn.Float64(Table, "close");
    public static readonly TableColumn<DoubleArray> AdjClose = TableColumn.Float64(Table, "adj_close", nullable: true);
    public static readonly TableColumn<DoubleArray> Return = TableColumn.Float64(Table, "return", nullable: true);
    public static readonly TableColumn<DoubleArray> LogReturn = TableColumn.Float64(Table, "log_return", nullable: true);
    public static readonly TableColumn<DoubleArray> Sma20 = TableColumn.Float64(Table, "sma_20", nullable: true);
    public static readonly TableColumn<DoubleArray> Sma50 = TableColumn.Float64(Table, "sma_50", nullable: true);
    public static readonly TableColumn<DoubleArray> Sma200 = TableColumn.Float64(Table, "sma_200", nullable: true);
    public static readonly TableColumn<DoubleArray> Vol20 = TableColumn.Float64(Table, "vol_20", nullable: true);
    public static readonly TableColumn<DoubleArray> Drawdown = TableColumn.Float64(Table, "drawdown", nullable: true);

    /// <summary>The metric columns (after <c>adj_close</c>), in declared order.</summary>
    public static IReadOnlyList<TableColumn<DoubleArray>> Metrics { get; } = [Return, LogReturn, Sma20, Sma50, Sma200, Vol20, Drawdown];
}
