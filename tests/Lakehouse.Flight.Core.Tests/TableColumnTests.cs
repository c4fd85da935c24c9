using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Core.Tests;

public sealed class TableColumnTests
{
    [Fact]
    public void Build_ColumnsSetOutOfOrder_ComeOutInTheDeclaredOrder()
    {
        var symbol = Utf8("AAPL", "AAPL");
        var month = new Date32Array.Builder().Append(new DateOnly(2024, 1, 1)).Append(new DateOnly(2024, 2, 1)).Build();
        var open = Doubles(1, 2);
        var high = Doubles(3, 4);
        var low = Doubles(0.5, 1);
        var close = Doubles(2, 3);
        var adj = new DoubleArray.Builder().AppendNull().Append(2.5).Build();
        var volume = new Int64Array.Builder().Append(10).Append(20).Build();
        var days = new Int32Array.Builder().Append(21).Append(19).Build();

        var batch = new TableBatchBuilder(GoldTables.PricesMonthly)
            .Set(PricesMonthlyColumns.TradingDays, days)
            .Set(PricesMonthlyColumns.Volume, volume)
            .Set(PricesMonthlyColumns.Close, close)
            .Set(PricesMonthlyColumns.AdjClose, adj)
            .Set(PricesMonthlyColumns.Low, low)
            .Set(PricesMonthlyColumns.Month, month)
            .Set(PricesMonthlyColumns.High, high)
            .Set(PricesMonthlyColumns.Symbol, symbol)
            .Set(PricesMonthlyColumns.Open, open)
            .Build(2);

        Assert.Same(GoldTables.PricesMonthlySchema, batch.Schema);
        IArrowArray[] expected = [symbol, month, open, high, low, close, adj, volume, days];
        for (var i = 0; i < expected.Length; i++)
        {
            Assert.Same(expected[i], batch.Column(i));
        }
        Assert.Same(close, PricesMonthlyColumns.Close.Of(batch));
        Assert.Equal(2.5, PricesMonthlyColumns.AdjClose.Of(batch).GetValue(1));
    }

    [Fact]
    public void Build_AColumnLeftUnset_NamesTheTableAndTheColumn()
    {
        var builder = new TableBatchBuilder(PriceTables.CorporateActions)
            .Set(CorporateActionColumns.Symbol, Utf8("AAPL"));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.Build(1));

        Assert.Contains("silver/corporate_actions needs columns date, type, value", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Build_AColumnOfAnotherLength_IsRefused()
    {
        var builder = new TableBatchBuilder(PriceTables.Silver).Set(PriceColumns.Close, Doubles(1, 2, 3));

        var ex = Assert.Throws<InvalidOperationException>(() => builder.BuildSet(2));

        Assert.Contains("column 'close' of a batch of silver/prices_daily has 3 rows; the batch has 2", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Set_AColumnTheTableDoesNotHave_IsRefused()
    {
        var builder = new TableBatchBuilder(PriceTables.Silver);

        var ex = Assert.Throws<ArgumentException>(() => builder.Set(DailyMetricsColumns.Sma20, Doubles(1)));

        Assert.Contains("silver/prices_daily has no column 'sma_20' (declared for daily_metrics)", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void BuildSet_KeepsTheSetColumnsInTheDeclaredOrder()
    {
        var batch = new TableBatchBuilder(PriceTables.Silver)
            .Set(PriceColumns.Source, Utf8("csv"))
            .Set(PriceColumns.Date, new Date32Array.Builder().Append(new DateOnly(2024, 1, 2)).Build())
            .Set(PriceColumns.Symbol, Utf8("AAPL"))
            .BuildSet(1);

        Assert.Equal(["symbol", "date", "source"], batch.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal("csv", PriceColumns.Source.Of(batch).GetString(0));
    }

    [Fact]
    public void Of_AMissingColumn_NamesTheTableAndTheColumn()
    {
        var batch = new RecordBatch(TableColumn.Schema(PriceColumns.Symbol, PriceColumns.Date),
            [Utf8("AAPL"), new Date32Array.Builder().Append(new DateOnly(2024, 1, 2)).Build()], 1);

        var ex = Assert.Throws<ArgumentException>(() => PriceColumns.Close.Of(batch));

        Assert.Equal("a batch of prices_daily has no 'close' column (double); it has symbol, date", ex.Message);
        Assert.Null(PriceColumns.Close.Find(batch));
    }

    [Fact]
    public void Of_AMistypedColumn_NamesTheTableTheColumnAndBothTypes()
    {
        var schema = new Schema.Builder().Field(f => f.Name("volume").DataType(DoubleType.Default).Nullable(false)).Build();
        var batch = new RecordBatch(schema, [Doubles(1.5)], 1);

        var ex = Assert.Throws<ArgumentException>(() => PriceColumns.Volume.Of(batch));

        Assert.Equal("column 'volume' of a batch of prices_daily is double; int64 expected", ex.Message);
    }

    [Fact]
    public void Of_BatchesOfSchemasInAnotherOrder_FindsEachByName()
    {
        var silver = PriceBarBatches.ToBatch([new PriceBar("AAPL", new DateOnly(2024, 1, 2), 1, 2, 0.5, 1.5, null, 7, "csv", DateTimeOffset.UnixEpoch)]);
        var projected = new RecordBatch(TableColumn.Schema(PriceColumns.Close, PriceColumns.Symbol), [Doubles(9), Utf8("MSFT")], 1);

        for (var round = 0; round < 3; round++)
        {
            Assert.Equal(1.5, PriceColumns.Close.Of(silver).GetValue(0));
            Assert.Equal(9, PriceColumns.Close.Of(projected).GetValue(0));
            Assert.Equal("MSFT", PriceColumns.Symbol.Of(projected).GetString(0));
        }
    }

    [Fact]
    public void DeclaredSchemas_AreTheOnesDesignFixes()
    {
        Assert.Equal("symbol:utf8!,date:date32!,open:double!,high:double!,low:double!,close:double!,adj_close:double,volume:int64!,source:utf8!,ingested_at:timestamp!",
            Describe(PriceTables.SilverSchema));
        Assert.Equal(Describe(PriceTables.SilverSchema) + ",run_id:utf8!", Describe(PriceTables.BronzeSchema));
        Assert.Equal("symbol:utf8!,date:date32!,type:utf8!,value:double,numerator:double,denominator:double,source:utf8!,ingested_at:timestamp!",
            Describe(PriceTables.CorporateActionsSchema));
        Assert.Equal("symbol:utf8!,month:date32!,open:double!,high:double!,low:double!,close:double!,adj_close:double,volume:int64!,trading_days:int32!",
            Describe(GoldTables.PricesMonthlySchema));
        Assert.Equal("symbol:utf8!,date:date32!,close:double!,adj_close:double,return:double,log_return:double,sma_20:double,sma_50:double,sma_200:double,vol_20:double,drawdown:double",
            Describe(GoldTables.DailyMetricsSchema));
        var ts = Assert.IsType<TimestampType>(PriceTables.SilverSchema.GetFieldByName("ingested_at").DataType);
        Assert.Equal((TimeUnit.Microsecond, "UTC"), (ts.Unit, ts.Timezone));
    }

    [Fact]
    public void ATableDeclaredHere_IsBuiltAndReadThroughTheSameColumns()
    {
        var symbol = TableColumn.Utf8("scores", "symbol");
        var day = TableColumn.Date32("scores", "day");
        var score = TableColumn.Int32("scores", "score", nullable: true);
        var weight = TableColumn.Float64("scores", "weight");
        var scores = new TableDefinition(Layer.Gold, "scores", TableColumn.Schema(symbol, day, score, weight), [symbol.Name, day.Name],
            Partitioning.SymbolYear);
        var catalog = TableCatalog.Default.With(scores);

        var batch = new TableBatchBuilder(catalog.Get(Layer.Gold, "scores"))
            .Set(weight, Doubles(0.25, 0.75))
            .Set(score, new Int32Array.Builder().Append(3).AppendNull().Build())
            .Set(day, new Date32Array.Builder().Append(new DateOnly(2024, 1, 2)).Append(new DateOnly(2024, 1, 3)).Build())
            .Set(symbol, Utf8("AAPL", "AAPL"))
            .Build(2);

        Assert.Same(scores.Schema, batch.Schema);
        Assert.Equal(["symbol", "day", "score", "weight"], batch.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(new DateOnly(2024, 1, 3), day.Of(batch).GetDateOnly(1));
        Assert.Equal(new int?[] { 3, null }, score.Of(batch).ToArray());
        Assert.Equal(0.75, weight.Of(batch).GetValue(1));
        var ex = Assert.Throws<ArgumentException>(() => PriceColumns.Close.Of(batch));
        Assert.Contains("no 'close' column", ex.Message, StringComparison.Ordinal);
    }

    private static string Describe(Schema schema) => string.Join(',', schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}{(f.IsNullable ? "" : "!")}"));

    private static StringArray Utf8(params string[] values)
    {
        var b = new StringArray.Builder();
        foreach (var v in values)
        {
            b.Append(v);
        }
        return b.Build();
    }

    private static DoubleArray Doubles(params double[] values) => new DoubleArray.Builder().AppendRange(values).Build();
}
