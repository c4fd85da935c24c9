using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;
using Xunit.Abstractions;

namespace Lakehouse.Flight.Ingestion.Tests.Gold;

/// <summary>Our gold batches against DuckDB window functions over the same silver rows.</summary>
public sealed class GoldCalculatorDuckDbTests(ITestOutputHelper output)
{
    public static TheoryData<string> Series => ["synthetic AAPL 2000-2020", "nulls and a gap month", "Yahoo AAPL 2020-08-31..11-06", "volatile then calm"];

    [Theory]
    [MemberData(nameof(Series))]
    public void Monthly_Series_MatchesDuckDb(string series)
    {
        var silver = Load(series);
        using var duck = new DuckDbGold(silver);

        var ours = GoldCalculator.Monthly(silver);

        Assert.Equal(GoldTables.PricesMonthlySchema, ours.Schema);
        var (compared, worst) = DuckDbGold.AssertSame(ours, duck.Monthly());
        output.WriteLine($"{series}: {ours.Length} months, {compared} doubles, worst relative difference {worst:E2}");
        Assert.True(compared >= ours.Length * 4, $"only {compared} doubles compared");
    }

    [Theory]
    [MemberData(nameof(Series))]
    public void DailyMetrics_Series_MatchesDuckDb(string series)
    {
        var silver = Load(series);
        using var duck = new DuckDbGold(silver);

        var ours = GoldCalculator.DailyMetrics(silver);

        Assert.Equal(GoldTables.DailyMetricsSchema, ours.Schema);
        var (compared, worst) = DuckDbGold.AssertSame(ours, duck.Metrics());
        output.WriteLine($"{series}: {ours.Length} rows, {compared} doubles, worst relative difference {worst:E2}");
        Assert.True(compared >= ours.Length * 4, $"only {compared} doubles compared");
    }

    [Fact]
    public void Monthly_GapMonthAndNullLastAdjClose_AbsentMonthAndNullAdjClose()
    {
        var bars = GoldTestData.WithNullsAndGap();

        var monthly = GoldCalculator.Monthly(PriceBarBatches.ToBatch(bars));

        var months = (Date32Array)monthly.Column("month");
        var list = Enumerable.Range(0, monthly.Length).Select(i => months.GetDateOnly(i)!.Value).ToList();
        Assert.Equal(new DateOnly(2023, 1, 1), list[0]);
        Assert.Equal(new DateOnly(2023, 4, 1), list[2]);
        Assert.DoesNotContain(new DateOnly(2023, 3, 1), list);
        Assert.Equal(14, monthly.Length);
        var adj = (DoubleArray)monthly.Column("adj_close");
        Assert.True(adj.IsNull(0));
        Assert.True(adj.IsNull(monthly.Length - 1));
        Assert.Equal(2, adj.NullCount);
    }

    private static RecordBatch Load(string series) => series switch
    {
        "synthetic AAPL 2000-2020" => GoldTestData.SyntheticAapl(),
        "nulls and a gap month" => PriceBarBatches.ToBatch(GoldTestData.WithNullsAndGap()),
        "Yahoo AAPL 2020-08-31..11-06" => PriceBarBatches.ToBatch(GoldTestData.YahooAapl()),
        "volatile then calm" => PriceBarBatches.ToBatch(GoldTestData.VolatileThenCalm()),
        _ => throw new ArgumentOutOfRangeException(nameof(series), series, null),
    };
}
