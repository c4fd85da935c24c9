using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold;

namespace Lakehouse.Flight.Ingestion.Tests.Gold;

public sealed class DailyReportTests
{
    [Fact]
    public void Header_NamesTheDeclaredSilverAndMetricColumnsInOrder()
    {
        TableColumn[] columns = [PriceColumns.Symbol, PriceColumns.Date, PriceColumns.Open, PriceColumns.High, PriceColumns.Low,
            PriceColumns.Close, PriceColumns.AdjClose, PriceColumns.Volume, .. DailyMetricsColumns.Metrics];

        Assert.Equal(DailyReport.Header, string.Join(',', columns.Select(c => c.Name)));
    }

    [Fact]
    public void Csv_SyntheticSeries_HeaderAndFirstAndLastLinesParseBack()
    {
        var silver = GoldTestData.SyntheticAapl();
        var metrics = GoldCalculator.DailyMetrics(silver);
        var bars = PriceBarBatches.ToBars(silver).ToList();

        var lines = DailyReport.Csv(silver, metrics).Split('\n');

        Assert.Equal(bars.Count + 2, lines.Length);    // header, one line per row, "" after the last \n
        Assert.Equal("", lines[^1]);
        Assert.Equal("symbol,date,open,high,low,close,adj_close,volume,return,log_return,sma_20,sma_50,sma_200,vol_20,drawdown", lines[0]);
        Assert.Equal(DailyReport.Header, lines[0]);

        var first = lines[1].Split(',');
        Assert.Equal(15, first.Length);
        Assert.Equal("AAPL", first[0]);
        Assert.Equal(bars[0].Date, DateOnly.ParseExact(first[1], "yyyy-MM-dd", CultureInfo.InvariantCulture));
        Assert.Equal(bars[0].Open, Parse(first[2]));
        Assert.Equal(bars[0].AdjClose, Parse(first[6]));
        Assert.Equal(bars[0].Volume, long.Parse(first[7], CultureInfo.InvariantCulture));
        Assert.Equal(["", "", "", "", "", "", "0"], first[8..]);  // no previous row, no full window; at its own peak

        var last = lines[^2].Split(',');
        var n = bars.Count - 1;
        Assert.Equal(bars[n].Date, DateOnly.ParseExact(last[1], "yyyy-MM-dd", CultureInfo.InvariantCulture));
        Assert.Equal(bars[n].Close, Parse(last[5]));
        string[] metricNames = ["return", "log_return", "sma_20", "sma_50", "sma_200", "vol_20", "drawdown"];
        for (var c = 0; c < metricNames.Length; c++)
        {
            // Round-trip text: the parsed cell is the exact double, not an approximation.
            Assert.Equal(GoldCalculatorTests.Doubles(metrics, metricNames[c])[n], Parse(last[8 + c]));
        }
    }

    [Fact]
    public void Csv_NullAdjClose_EmptyCell()
    {
        var bars = GoldTestData.Zigzag().Take(3).ToList();
        bars[2] = bars[2] with { AdjClose = null };

        var lines = DailyReport.Csv(PriceBarBatches.ToBatch(bars)).Split('\n');

        var row = lines[3].Split(',');
        Assert.Equal("2024-01-24", row[1]);
        Assert.Equal("99", row[5]);
        Assert.Equal("", row[6]);
        Assert.Equal(99.0 / 110 - 1, Parse(row[8]));    // the return falls back to close
        Assert.Equal("110", lines[2].Split(',')[6]);
    }

    [Fact]
    public void Csv_NoRows_HeaderOnly() =>
        Assert.Equal(DailyReport.Header + "\n", DailyReport.Csv(PriceBarBatches.ToBatch([])));

    [Fact]
    public void Write_MetricsOfOtherRows_ThrowsArgumentException()
    {
        var bars = GoldTestData.Zigzag();
        var silver = PriceBarBatches.ToBatch(bars);
        var otherMetrics = GoldCalculator.DailyMetrics(PriceBarBatches.ToBatch(bars.Skip(1).ToList()));

        var ex = Assert.Throws<ArgumentException>(() => DailyReport.Write(TextWriter.Null, silver, otherMetrics));

        Assert.Contains("does not match the silver batch", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("^GSPC", "%5EGSPC_daily_report.csv")]
    [InlineData("EURUSD=X", "EURUSD%3DX_daily_report.csv")]
    [InlineData("brk.b", "BRK.B_daily_report.csv")]
    [InlineData("AAPL", "AAPL_daily_report.csv")]
    public void FileName_Symbol_IsHiveEscapedLikePartitionFolders(string symbol, string expected)
    {
        Assert.Equal(expected, DailyReport.FileName(symbol));
        Assert.Equal(Symbols.Normalize(symbol), HivePath.Unescape(expected[..^"_daily_report.csv".Length]));
    }

    [Fact]
    public void FileName_PathLikeSymbol_IsRefused() =>
        Assert.Throws<LakehouseException>(() => DailyReport.FileName("../etc"));

    private static double? Parse(string cell) => cell.Length == 0 ? null : double.Parse(cell, NumberStyles.Float, CultureInfo.InvariantCulture);
}
