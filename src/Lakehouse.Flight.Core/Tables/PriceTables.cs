using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>The product's bronze and silver tables: each schema is written out once, here (a contract with other engines).</summary>
public static class PriceTables
{
    public const string PricesDaily = "prices_daily";
    public const string CorporateActionsName = "corporate_actions";

    /// <summary>timestamp(us, UTC): <c>ingested_at</c> everywhere.</summary>
    public static readonly TimestampType TimestampType = (TimestampType)PriceColumns.IngestedAt.Type;

    /// <summary>Silver <c>prices_daily</c>, also DoGet's default output.</summary>
    public static readonly Schema SilverSchema = TableColumn.Schema(PriceColumns.Symbol, PriceColumns.Date, PriceColumns.Open,
        PriceColumns.High, PriceColumns.Low, PriceColumns.Close, PriceColumns.AdjClose, PriceColumns.Volume, PriceColumns.Source,
        PriceColumns.IngestedAt);

    /// <summary>Bronze <c>prices_daily</c>: the silver columns plus the run that landed each raw row.</summary>
    public static readonly Schema BronzeSchema = new([.. SilverSchema.FieldsList, PriceColumns.RunId.Field], metadata: null);

    public static readonly Schema CorporateActionsSchema = TableColumn.Schema(CorporateActionColumns.Symbol, CorporateActionColumns.Date,
        CorporateActionColumns.Type, CorporateActionColumns.Value, CorporateActionColumns.Numerator, CorporateActionColumns.Denominator,
        CorporateActionColumns.Source, CorporateActionColumns.IngestedAt);

    public static readonly TableDefinition Silver = new(Layer.Silver, PricesDaily, SilverSchema, [PriceColumns.Symbol.Name, PriceColumns.Date.Name],
        Partitioning.SymbolYearMonth, WriteMode.Upsert, validator: ValidatePrice,
        description: "clean daily bars, one row per (symbol, date)")
    {
        // Gold's running peak (adj_close, else close) of the years a daily append does not read.
        SummaryColumns = [PriceColumns.Close.Name, PriceColumns.AdjClose.Name],
    };

    public static readonly TableDefinition Bronze = new(Layer.Bronze, PricesDaily, BronzeSchema, [PriceColumns.Symbol.Name, PriceColumns.Date.Name],
        Partitioning.SymbolYearMonth, WriteMode.Append, perSource: true,
        description: "raw daily bars as received, per source");

    public static readonly TableDefinition CorporateActions = new(Layer.Silver, CorporateActionsName, CorporateActionsSchema,
        [CorporateActionColumns.Symbol.Name, CorporateActionColumns.Date.Name, CorporateActionColumns.Type.Name], Partitioning.Symbol,
        WriteMode.Upsert, validator: ValidateAction,
        description: "dividends, splits and capital gains, one row per (symbol, date, type)");

    // The price columns of a batch, found once per batch rather than seven times per row.
    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<RecordBatch, PriceArrays> Columns = new();

    private static readonly int UnixEpochDay = DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;

    private static string? ValidatePrice(RecordBatch batch, int row, DateOnly today)
    {
        var c = Columns.GetValue(batch, b => new PriceArrays(b));
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
        var symbol = CorporateActionColumns.Symbol.Of(batch).GetString(row);
        var date = CorporateActionColumns.Date.Of(batch).GetDateOnly(row)!.Value;
        var type = CorporateActionColumns.Type.Of(batch).GetString(row);
        var value = CorporateActionColumns.Value.Of(batch).GetValue(row);
        var num = CorporateActionColumns.Numerator.Of(batch).GetValue(row);
        var den = CorporateActionColumns.Denominator.Of(batch).GetValue(row);
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
