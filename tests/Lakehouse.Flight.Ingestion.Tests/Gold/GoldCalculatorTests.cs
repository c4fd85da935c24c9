using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;

namespace Lakehouse.Flight.Ingestion.Tests.Gold;

/// <summary>Gold values worked out by hand on the 25-row zigzag (see <see cref="GoldTestData.Zigzag"/>), and input checks.</summary>
public sealed class GoldCalculatorTests
{
    private const double Tolerance = 1e-12;

    [Fact]
    public void DailyMetrics_Zigzag_MatchesHandComputedValues()
    {
        var metrics = GoldCalculator.DailyMetrics(PriceBarBatches.ToBatch(GoldTestData.Zigzag()));

        Assert.Equal(25, metrics.Length);
        var ret = Doubles(metrics, "return");
        Assert.Null(ret[0]);
        Near(0.1, ret[1]);
        Near(-0.1, ret[2]);
        Near(Math.Log(1.1), Doubles(metrics, "log_return")[1]);

        // sma_20: null until 20 prices; row 19 = (100 + 110) x (1 + 0.99 + ... + 0.99^9) / 20.
        var sma20 = Doubles(metrics, "sma_20");
        Assert.All(sma20[..19], Assert.Null);
        Near(100.3988212407552854895, sma20[19]);
        Near(97.932309056644901711552955, sma20[24]);
        Assert.All(Doubles(metrics, "sma_50"), Assert.Null);
        Assert.All(Doubles(metrics, "sma_200"), Assert.Null);

        // vol_20: ten +0.1 and ten -0.1 returns: mean 0, sample variance 0.2 / 19, x sqrt(252).
        var vol = Doubles(metrics, "vol_20");
        Assert.All(vol[..20], Assert.Null);
        Near(Math.Sqrt(0.2 / 19 * 252), vol[20]);
        Near(1.62869014209191074757674317446, vol[24]);

        // drawdown below the peak of 110 (row 1): row 2 is 99 (-10%), row 24 is 100 x 0.99^12.
        var drawdown = Doubles(metrics, "drawdown");
        Near(0, drawdown[0]);
        Near(0, drawdown[1]);
        Near(-0.1, drawdown[2]);
        Near(-0.1046617457412835548901, drawdown[23]);
        Near(-0.19419557116715519940109, drawdown[24]);
    }

    [Fact]
    public void Monthly_Zigzag_TwoMonthsWithHandComputedBars()
    {
        var monthly = GoldCalculator.Monthly(PriceBarBatches.ToBatch(GoldTestData.Zigzag()));

        Assert.Equal(2, monthly.Length);
        var month = (Date32Array)monthly.Column("month");
        Assert.Equal(new DateOnly(2024, 1, 1), month.GetDateOnly(0));
        Assert.Equal(new DateOnly(2024, 2, 1), month.GetDateOnly(1));
        Assert.Equal(["ZIG", "ZIG"], Enumerable.Range(0, 2).Select(i => ((StringArray)monthly.Column("symbol")).GetString(i)));
        // January: rows 0..7 (22-26, 29-31); February: rows 8..24.
        Assert.Equal([8, 17], Enumerable.Range(0, 2).Select(i => ((Int32Array)monthly.Column("trading_days")).GetValue(i)!.Value));
        Assert.Equal([36_000L, 289_000L], Enumerable.Range(0, 2).Select(i => ((Int64Array)monthly.Column("volume")).GetValue(i)!.Value));
        var open = Doubles(monthly, "open");
        var high = Doubles(monthly, "high");
        var low = Doubles(monthly, "low");
        var close = Doubles(monthly, "close");
        var adj = Doubles(monthly, "adj_close");
        Near(99.5, open[0]);                       // p0 - 0.5
        Near(111, high[0]);                        // p1 + 1
        Near(97.0299 - 1.5, low[0]);               // p6 = 100 x 0.99^3
        Near(106.73289, close[0]);                 // p7 = 110 x 0.99^3
        Near(106.73289, adj[0]);
        Near(96.059601 - 0.5, open[1]);            // p8 = 100 x 0.99^4
        Near(105.6655611 + 1, high[1]);            // p9 = 110 x 0.99^4
        Near(88.6384871716129280658801, close[1]); // p24 = 100 x 0.99^12
        Near(88.6384871716129280658801 - 1.5, low[1]);
    }

    [Fact]
    public void DailyMetrics_NullAdjClose_FallsBackToCloseAndKeepsTheNull()
    {
        var d = new DateOnly(2024, 1, 2);
        var bars = new[]
        {
            GoldTestData.Bar("X", d, 10, 10, 1),
            GoldTestData.Bar("X", d.AddDays(1), 12, null, 1),
            GoldTestData.Bar("X", d.AddDays(2), 9, 9, 1),
        };

        var metrics = GoldCalculator.DailyMetrics(PriceBarBatches.ToBatch(bars));

        Assert.Equal([10.0, null, 9.0], Doubles(metrics, "adj_close"));
        Near(0.2, Doubles(metrics, "return")[1]);
        Near(-0.25, Doubles(metrics, "return")[2]);
        Near(-0.25, Doubles(metrics, "drawdown")[2]);
    }

    [Fact]
    public void DailyMetrics_ColumnsReorderedWithExtras_SameResult()
    {
        var silver = PriceBarBatches.ToBatch(GoldTestData.Zigzag());
        var names = new[] { "volume", "adj_close", "date", "close", "low", "symbol", "source", "high", "open", "ingested_at" };
        var builder = new Schema.Builder();
        var arrays = new List<IArrowArray>();
        foreach (var name in names)
        {
            builder.Field(silver.Schema.GetFieldByName(name));
            arrays.Add(silver.Column(name));
        }
        builder.Field(f => f.Name("extra").DataType(Int64Type.Default));
        arrays.Add(silver.Column("volume"));
        var shuffled = new RecordBatch(builder.Build(), arrays, silver.Length);

        Assert.Equal(Doubles(GoldCalculator.DailyMetrics(silver), "vol_20"), Doubles(GoldCalculator.DailyMetrics(shuffled), "vol_20"));
        Assert.Equal(Doubles(GoldCalculator.Monthly(silver), "close"), Doubles(GoldCalculator.Monthly(shuffled), "close"));
    }

    [Fact]
    public void DailyMetrics_FromADate_IsTheFullComputationsTailBitForBit()
    {
        // Nulls in adj_close and a gap in the dates; tails starting inside and at the edges of every window.
        var bars = GoldTestData.WithNullsAndGap();
        var silver = PriceBarBatches.ToBatch(bars);
        var full = GoldCalculator.DailyMetrics(silver);
        var names = full.Schema.FieldsList.Select(f => f.Name).Where(n => n is not ("symbol" or "date")).ToArray();
        foreach (var start in new[] { 0, 1, 2, 19, 20, 21, 49, 50, 199, 200, 201, bars.Count - 1 })
        {
            var tail = GoldCalculator.DailyMetrics(silver, bars[start].Date);

            Assert.Equal(bars.Count - start, tail.Length);
            Assert.Equal(bars.Skip(start).Select(b => b.Date), Dates(tail));
            foreach (var name in names)
            {
                // Exact equality, nulls included: the tail is written next to rows of full computations.
                Assert.Equal(Doubles(full, name).Skip(start), Doubles(tail, name));
            }
        }
        Assert.Equal(0, GoldCalculator.DailyMetrics(silver, bars[^1].Date.AddDays(1)).Length);
        Assert.True(bars.Count > 210, "the data must outlast the longest window");
    }

    [Fact]
    public void Calculators_SlicedBatch_SameAsTheRowsCopied()
    {
        // A slice shares its parent's buffers at an offset: every span and validity bit must honour it.
        var bars = GoldTestData.WithNullsAndGap();
        var sliced = PriceBarBatches.ToBatch(bars).Slice(3, 250);
        var copied = PriceBarBatches.ToBatch(bars.Skip(3).Take(250).ToList());

        var metrics = GoldCalculator.DailyMetrics(sliced);
        var expected = GoldCalculator.DailyMetrics(copied);

        Assert.Equal(250, metrics.Length);
        foreach (var name in new[] { "close", "adj_close", "return", "sma_200", "vol_20", "drawdown" })
        {
            Assert.Equal(Doubles(expected, name), Doubles(metrics, name));
        }
        Assert.Equal(Doubles(GoldCalculator.Monthly(copied), "adj_close"), Doubles(GoldCalculator.Monthly(sliced), "adj_close"));
        Assert.Equal(DailyReport.Csv(copied), DailyReport.Csv(sliced));
    }

    [Fact]
    public void DailyMetrics_FewerRowsThanAnyWindow_AllWindowsNull()
    {
        var metrics = GoldCalculator.DailyMetrics(PriceBarBatches.ToBatch(GoldTestData.Zigzag().Take(5).ToList()));

        Assert.Equal(5, metrics.Length);
        foreach (var name in new[] { "sma_20", "sma_50", "sma_200", "vol_20" })
        {
            Assert.Equal(5, metrics.Column(name).NullCount);
        }
        Assert.Equal(1, metrics.Column("return").NullCount);
    }

    [Fact]
    public void Calculators_EmptyInput_EmptyBatchWithSchema()
    {
        var empty = PriceBarBatches.ToBatch([]);

        var monthly = GoldCalculator.Monthly(empty);
        var metrics = GoldCalculator.DailyMetrics(empty);

        Assert.Equal(0, monthly.Length);
        Assert.Equal(GoldTables.PricesMonthlySchema, monthly.Schema);
        Assert.Equal(0, metrics.Length);
        Assert.Equal(GoldTables.DailyMetricsSchema, metrics.Schema);
        Assert.All(metrics.Arrays, a => Assert.Equal(0, a.Length));
    }

    public static TheoryData<string, string> BadInputs => new()
    {
        { "dates out of order", "a date out of order at row 2" },
        { "duplicate date", "a duplicate date at row 1" },
        { "two symbols", "more than one symbol" },
        { "no adj_close column", "no 'adj_close' column" },
    };

    [Theory]
    [MemberData(nameof(BadInputs))]
    public void Calculators_BadInput_ThrowArgumentException(string input, string message)
    {
        var bars = GoldTestData.Zigzag().Take(3).ToList();
        RecordBatch silver;
        switch (input)
        {
            case "dates out of order":
                (bars[1], bars[2]) = (bars[2], bars[1]);
                silver = PriceBarBatches.ToBatch(bars);
                break;
            case "duplicate date":
                bars[1] = bars[1] with { Date = bars[0].Date };
                silver = PriceBarBatches.ToBatch(bars);
                break;
            case "two symbols":
                bars[2] = bars[2] with { Symbol = "OTHER" };
                silver = PriceBarBatches.ToBatch(bars);
                break;
            default:
                var full = PriceBarBatches.ToBatch(bars);
                var index = full.Schema.GetFieldIndex("adj_close");
                var schema = new Schema.Builder();
                foreach (var f in full.Schema.FieldsList.Where(f => f.Name != "adj_close"))
                {
                    schema.Field(f);
                }
                silver = new RecordBatch(schema.Build(), full.Arrays.Where((_, i) => i != index), full.Length);
                break;
        }

        var monthly = Assert.Throws<ArgumentException>(() => GoldCalculator.Monthly(silver));
        var metrics = Assert.Throws<ArgumentException>(() => GoldCalculator.DailyMetrics(silver));

        Assert.Contains(message, monthly.Message, StringComparison.Ordinal);
        Assert.Contains(message, metrics.Message, StringComparison.Ordinal);
    }

    private static DateOnly[] Dates(RecordBatch batch)
    {
        var dates = (Date32Array)batch.Column("date");
        return Enumerable.Range(0, dates.Length).Select(i => dates.GetDateOnly(i)!.Value).ToArray();
    }

    internal static double?[] Doubles(RecordBatch batch, string column)
    {
        var array = (DoubleArray)batch.Column(column);
        return Enumerable.Range(0, array.Length).Select(i => array.GetValue(i)).ToArray();
    }

    private static void Near(double expected, double? actual)
    {
        Assert.NotNull(actual);
        Assert.True(Math.Abs(expected - actual.Value) <= Tolerance * Math.Max(1, Math.Abs(expected)), $"expected {expected:R}, got {actual:R}");
    }
}
