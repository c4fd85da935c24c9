using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>The product's bronze and silver tables: each schema is written out once, here (a contract with other engines).</summary>
public static class PriceTables
{
    public const string PricesDaily = "prices_daily";
    public const string CorporateActionsName = "corporate_actions";

    /// <summary>timestamp(us, UTC): <c>ingested_at</c> everywhere.</summary>
    public static readonly TimestampType TimestampType = new(TimeUnit.Microsecond, "UTC");

    /// <summary>Silver <c>prices_daily</c>, also DoGet's default output.</summary>
    public static readonly Schema SilverSchema = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("date").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("open").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("high").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("low").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("close").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("adj_close").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("volume").DataType(Int64Type.Default).Nullable(false))
        .Field(f => f.Name("source").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("ingested_at").DataType(TimestampType).Nullable(false))
        .Build();

    /// <summary>Bronze <c>prices_daily</c>: the silver columns plus the run that landed each raw row.</summary>
    public static readonly Schema BronzeSchema = new(
        [.. SilverSchema.FieldsList, new Field("run_id", StringType.Default, nullable: false)], metadata: null);

    public static readonly Schema CorporateActionsSchema = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("date").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("type").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("value").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("numerator").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("denominator").DataType(DoubleType.Default).Nullable(true))
        .Field(f => f.Name("source").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("ingested_at").DataType(TimestampType).Nullable(false))
        .Build();

    public static readonly TableDefinition Silver = new(Layer.Silver, PricesDaily, SilverSchema, ["symbol", "date"],
        Partitioning.SymbolYearMonth, WriteMode.Upsert, validator: ValidatePrice,
        description: "clean daily bars, one row per (symbol, date)");

    public static readonly TableDefinition Bronze = new(Layer.Bronze, PricesDaily, BronzeSchema, ["symbol", "date"],
        Partitioning.SymbolYearMonth, WriteMode.Append, perSource: true,
        description: "raw daily bars as received, per source");

    public static readonly TableDefinition CorporateActions = new(Layer.Silver, CorporateActionsName, CorporateActionsSchema,
        ["symbol", "date", "type"], Partitioning.Symbol, WriteMode.Upsert, validator: ValidateAction,
        description: "dividends, splits and capital gains, one row per (symbol, date, type)");

    /// <summary>The price columns of a batch, found by name once per batch rather than seven times per row.</summary>
    private sealed class PriceColumns(RecordBatch batch)
    {
        public readonly StringArray Symbol = (StringArray)batch.Column("symbol");
        public readonly Date32Array Date = (Date32Array)batch.Column("date");
        public readonly DoubleArray Open = (DoubleArray)batch.Column("open");
        public readonly DoubleArray High = (DoubleArray)batch.Column("high");
        public readonly DoubleArray Low = (DoubleArray)batch.Column("low");
        public readonly DoubleArray Close = (DoubleArray)batch.Column("close");
        public readonly DoubleArray AdjClose = (DoubleArray)batch.Column("adj_close");
        public readonly Int64Array Volume = (Int64Array)batch.Column("volume");
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RecordBatch, PriceColumns> Columns = new();

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static string? ValidatePrice(RecordBatch batch, int row, DateOnly today)
    {
        var c = Columns.GetValue(batch, b => new PriceColumns(b));
        var date = DateOnly.FromDayNumber(UnixEpochDay + c.Date.Values[row]);
        double? adj = c.AdjClose.IsNull(row) ? null : c.AdjClose.Values[row];
        var (open, high, low, close, volume) = (c.Open.Values[row], c.High.Values[row], c.Low.Values[row], c.Close.Values[row], c.Volume.Values[row]);
        // The message (and the symbol's string) only for a row that breaks a rule.
        return BarValidator.Passes(date, open, high, low, close, adj, volume, today)
            ? null
            : BarValidator.Validate(c.Symbol.GetString(row), date, open, high, low, close, adj, volume, today);
    }

    private static string? ValidateAction(RecordBatch batch, int row, DateOnly today)
    {
        var symbol = ((StringArray)batch.Column("symbol")).GetString(row);
        var date = ((Date32Array)batch.Column("date")).GetDateOnly(row)!.Value;
        var type = ((StringArray)batch.Column("type")).GetString(row);
        var value = ((DoubleArray)batch.Column("value")).GetValue(row);
        var num = ((DoubleArray)batch.Column("numerator")).GetValue(row);
        var den = ((DoubleArray)batch.Column("denominator")).GetValue(row);
        var at = $"{symbol} {date:yyyy-MM-dd} {type}";
        if (!LakeDates.Accepts(date, today))
        {
            return $"{at}: date must be between {BarValidator.MinDate:yyyy-MM-dd} and tomorrow";
        }
        return type switch
        {
            CorporateActionTypes.Split when num is not { } n || den is not { } d || !Positive(n) || !Positive(d) =>
                $"{at}: a split needs numerator and denominator > 0 (got {num?.ToString() ?? "null"}/{den?.ToString() ?? "null"})",
            CorporateActionTypes.Split => null,
            CorporateActionTypes.Dividend or CorporateActionTypes.CapitalGain when value is not { } v || !Positive(v) =>
                $"{at}: the cash amount must be finite and > 0 (got {value?.ToString() ?? "null"})",
            CorporateActionTypes.Dividend or CorporateActionTypes.CapitalGain => null,
            _ => $"{at}: type must be one of dividend, split, capital_gain",
        };
    }

    private static bool Positive(double v) => double.IsFinite(v) && v > 0;
}
