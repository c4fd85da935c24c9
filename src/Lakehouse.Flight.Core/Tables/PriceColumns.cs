using Apache.Arrow;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>The columns of <c>prices_daily</c> (silver; bronze adds <see cref="RunId"/>), in declared order.</summary>
public static class PriceColumns
{
    private const string Table = PriceTables.PricesDaily;

    public static readonly TableColumn<StringArray> Symbol = TableColumn.Utf8(Table, TableDefinition.SymbolColumn);
    public static readonly TableColumn<Date32Array> Date = TableColumn.Date32(Table, "date");
    public static readonly TableColumn<DoubleArray> Open = TableColumn.Float64(Table, "open");
    public static readonly TableColumn<DoubleArray> High = TableColumn.Float64(Table, "high");
    public static readonly TableColumn<DoubleArray> Low = TableColumn.Float64(Table, "low");
    public static readonly TableColumn<DoubleArray> Close = TableColumn.Float64(Table, "close");

    /// <summary>Null where a source has no adjusted prices.</summary>
    public static readonly TableColumn<DoubleArray> AdjClose = TableColumn.Float64(Table, "adj_close", nullable: true);
    public static readonly TableColumn<Int64Array> Volume = TableColumn.Int64(Table, "volume");
    public static readonly TableColumn<StringArray> Source = TableColumn.Utf8(Table, TableDefinition.SourceColumn);
    public static readonly TableColumn<TimestampArray> IngestedAt = TableColumn.Timestamp(Table, TableDefinition.IngestedAtColumn);

    /// <summary>Bronze only: the run that landed the raw row.</summary>
    public static readonly TableColumn<StringArray> RunId = TableColumn.Utf8(Table, TableDefinition.RunIdColumn);
}

/// <summary>The bar columns of one <c>prices_daily</c> batch (symbol to volume), each found once: what a loop over its rows reads.</summary>
public sealed class PriceArrays(RecordBatch batch)
{
    public StringArray Symbol { get; } = PriceColumns.Symbol.Of(batch);

    public Date32Array Date { get; } = PriceColumns.Date.Of(batch);

    public DoubleArray Open { get; } = PriceColumns.Open.Of(batch);

    public DoubleArray High { get; } = PriceColumns.High.Of(batch);

    public DoubleArray Low { get; } = PriceColumns.Low.Of(batch);

    public DoubleArray Close { get; } = PriceColumns.Close.Of(batch);

    public DoubleArray AdjClose { get; } = PriceColumns.AdjClose.Of(batch);

    public Int64Array Volume { get; } = PriceColumns.Volume.Of(batch);
}

/// <summary>The columns of silver <c>corporate_actions</c>, in declared order.</summary>
public static class CorporateActionColumns
{
    private const string Table = PriceTables.CorporateActionsName;

    public static readonly TableColumn<StringArray> Symbol = TableColumn.Utf8(Table, TableDefinition.SymbolColumn);
    public static readonly TableColumn<Date32Array> Date = TableColumn.Date32(Table, "date");

    /// <summary><c>dividend</c>, <c>split</c> or <c>capital_gain</c> (<see cref="CorporateActionTypes"/>).</summary>
    public static readonly TableColumn<StringArray> Type = TableColumn.Utf8(Table, "type");

    /// <summary>The cash amount; null for splits.</summary>
    public static readonly TableColumn<DoubleArray> Value = TableColumn.Float64(Table, "value", nullable: true);
    public static readonly TableColumn<DoubleArray> Numerator = TableColumn.Float64(Table, "numerator", nullable: true);
    public static readonly TableColumn<DoubleArray> Denominator = TableColumn.Float64(Table, "denominator", nullable: true);
    public static readonly TableColumn<StringArray> Source = TableColumn.Utf8(Table, TableDefinition.SourceColumn);
    public static readonly TableColumn<TimestampArray> IngestedAt = TableColumn.Timestamp(Table, TableDefinition.IngestedAtColumn);
}
