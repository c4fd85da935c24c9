using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Core.Tests;

public sealed class TableCatalogTests
{
    [Theory]
    [InlineData("{\"table\": \"trades\"}", "unknown dataset 'silver/trades': valid datasets are silver/prices_daily, bronze/prices_daily, silver/corporate_actions")]
    [InlineData("{\"columns\": [\"price\"]}", "unknown column 'price' in silver/prices_daily: valid columns are symbol, date, open")]
    [InlineData("{\"layer\": \"gold\", \"table\": \"prices_daily\"}", "unknown dataset 'gold/prices_daily'")]
    public void Resolve_UnknownTableOrColumn_IsInvalidArgumentListingWhatExists(string json, string fragment)
    {
        var query = QueryCodec.ParseQuery(System.Text.Encoding.UTF8.GetBytes(json));

        var ex = Assert.Throws<LakehouseException>(() => TableCatalog.Default.Resolve(query));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Resolve_Projection_KeepsTheOrderAsked()
    {
        var (table, schema) = TableCatalog.Default.Resolve(TableQuery.Create(columns: ["close", "date"]));

        Assert.Same(PriceTables.Silver, table);
        Assert.Equal(["close", "date"], schema.FieldsList.Select(f => f.Name));
    }

    [Fact]
    public void With_ADeclaredTable_IsFoundAndListedLast()
    {
        var schema = new Schema.Builder()
            .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
            .Field(f => f.Name("day").DataType(Date32Type.Default).Nullable(false))
            .Field(f => f.Name("score").DataType(Int32Type.Default).Nullable(true))
            .Build();
        var scores = new TableDefinition(Layer.Gold, "scores", schema, ["symbol", "day"], Partitioning.SymbolYear);

        var catalog = TableCatalog.Default.With(scores);

        Assert.Same(scores, catalog.Get(Layer.Gold, "scores"));
        Assert.Equal("gold/scores", catalog.Tables[^1].Id);
        Assert.Null(TableCatalog.Default.Find(Layer.Gold, "scores"));
        Assert.Throws<ArgumentException>(() => catalog.With(scores));
    }

    [Fact]
    public void TableDefinition_KeyWithoutADateColumn_IsRefused()
    {
        var schema = new Schema.Builder()
            .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
            .Field(f => f.Name("note").DataType(StringType.Default).Nullable(false))
            .Build();

        var ex = Assert.Throws<ArgumentException>(() => new TableDefinition(Layer.Silver, "notes", schema, ["symbol", "note"], Partitioning.Symbol));

        Assert.Contains("non-null date32 column 'note'", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(Partitioning.Symbol, 0, 0, "0001-01-01", "9999-12-31")]
    [InlineData(Partitioning.SymbolYear, 2024, 0, "2024-01-01", "2024-12-31")]
    [InlineData(Partitioning.SymbolYearMonth, 2024, 2, "2024-02-01", "2024-02-29")]
    public void PartitionOf_AndBounds_FollowThePartitioning(Partitioning partitioning, int year, int month, string first, string last)
    {
        var t = new TableDefinition(Layer.Silver, "t", PriceTables.SilverSchema, ["symbol", "date"], partitioning);

        Assert.Equal((year, month), t.PartitionOf(new DateOnly(2024, 2, 10)));
        Assert.Equal((DateOnly.Parse(first, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(last, System.Globalization.CultureInfo.InvariantCulture)),
            t.Bounds(year, month));
    }

    [Theory]
    [InlineData(Partitioning.SymbolYearMonth, 9999, 12, "9999-12-01", "9999-12-31")]
    [InlineData(Partitioning.SymbolYear, 9999, 0, "9999-01-01", "9999-12-31")]
    [InlineData(Partitioning.SymbolYearMonth, 1, 1, "0001-01-01", "0001-01-31")]
    public void Bounds_OfTheCalendarsFirstAndLastPartitions_DoNotOverflow(Partitioning partitioning, int year, int month, string first, string last)
    {
        // An old build let bronze store a row dated 9999-12-31: its partition's bounds must still be computable.
        var t = new TableDefinition(Layer.Bronze, "t", PriceTables.SilverSchema, ["symbol", "date"], partitioning);

        Assert.Equal((DateOnly.Parse(first, System.Globalization.CultureInfo.InvariantCulture), DateOnly.Parse(last, System.Globalization.CultureInfo.InvariantCulture)),
            t.Bounds(year, month));
    }

    [Fact]
    public void CorporateActions_ValidatorNamesTheBrokenRule()
    {
        var now = DateTimeOffset.UnixEpoch;
        var batch = CorporateActionBatches.ToBatch(
        [
            new CorporateAction("AAPL", new DateOnly(2020, 8, 31), CorporateActionTypes.Split, null, 4, 1, "yahoo", now),
            new CorporateAction("AAPL", new DateOnly(2020, 8, 7), CorporateActionTypes.Dividend, 0.82, null, null, "yahoo", now),
            new CorporateAction("AAPL", new DateOnly(2020, 9, 1), CorporateActionTypes.Split, null, 0, 1, "yahoo", now),
            new CorporateAction("AAPL", new DateOnly(2020, 9, 2), "bonus", 1, null, null, "yahoo", now),
        ]);
        var today = new DateOnly(2026, 1, 1);

        var reasons = Enumerable.Range(0, 4).Select(i => PriceTables.CorporateActions.Validator!(batch, i, today)).ToArray();

        Assert.Null(reasons[0]);
        Assert.Null(reasons[1]);
        Assert.Contains("numerator and denominator > 0", reasons[2], StringComparison.Ordinal);
        Assert.Contains("type must be one of dividend, split, capital_gain", reasons[3], StringComparison.Ordinal);
    }
}
