namespace Lakehouse.Flight.Ingestion.Tests.Csv;

public sealed class CsvPriceSourceRowTests
{
    private const string YahooHeader = "Date,Open,High,Low,Close,Adj Close,Volume\n";

    [Fact]
    public async Task FetchAsync_MalformedLines_AreRejectedWithFileAndLineAndGoodLinesKept()
    {
        using var folder = new CsvTestFolder();
        folder.Write("AAPL.csv",
            YahooHeader
            + "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n"   // 2 good
            + "2024-01-03,null,null,null,null,null,null\n"                 // 3 Yahoo's missing day
            + "2024-01-04,182.15,183.09,180.88,181.91,71983600\n"          // 4 a column short
            + "2024-01-05,181.99,18x2.76,180.17,181.18,180.49,62303300\n"  // 5 bad number
            + "2024/01/08,182.09,185.60,181.50,185.56,184.86,59144500\n"   // 6 bad date
            + "\n"                                                          // 7 blank: skipped, still counted
            + "2024-01-09,183.92,185.15,182.73,185.14,184.44,NaN\n"        // 8 NaN
            + "2024-01-10,184.35,186.40,183.92,186.19,,46792900\n"         // 9 empty cell
            + "2024-01-11,186.54,187.05,183.62,185.59,184.89,49128400\n"   // 10 good, then replaced
            + "2024-01-11,186.54,187.05,183.62,185.60,184.90,49128401\n"); // 11 same date: wins

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        var aapl = Assert.Single(results);
        Assert.Null(aapl.Error);
        Assert.Equal([new DateOnly(2024, 1, 2), new DateOnly(2024, 1, 11)], aapl.Bars.Select(b => b.Date));
        Assert.Equal([185.64, 185.60], aapl.Bars.Select(b => b.Close));
        Assert.Equal([82488700L, 49128401L], aapl.Bars.Select(b => b.Volume));
        Assert.Equal(
            [
                "AAPL.csv:3: open is null",
                "AAPL.csv:4: expected 7 fields, found 6",
                "AAPL.csv:5: high '18x2.76' is not a number",
                "AAPL.csv:6: date '2024/01/08' is not yyyy-MM-dd",
                "AAPL.csv:8: volume is NaN",
                "AAPL.csv:9: adj_close is empty",
                "AAPL.csv:10: duplicate date 2024-01-11; line 11 is kept (the last one wins)",
            ],
            aapl.Rejected);
    }

    [Fact]
    public async Task FetchAsync_RowsOutOfOrderWithRepeatedDate_AreSortedAndOnlyTheLastOfTheDateKept()
    {
        using var folder = new CsvTestFolder();
        folder.Write("IBM.csv",
            YahooHeader
            + "2024-01-04,160.00,161.00,159.00,160.50,160.50,400\n"  // 2
            + "2024-01-02,162.00,163.00,161.00,162.50,162.50,100\n"  // 3 replaced by line 6
            + "2024-01-03,161.00,162.00,160.00,161.50,161.50,300\n"  // 4
            + "2024-01-02,162.00,163.00,161.00,162.60,162.60,101\n"  // 5 replaced by line 6
            + "2024-01-02,162.00,163.00,161.00,162.70,162.70,102\n"); // 6 kept

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        var ibm = Assert.Single(results);
        Assert.Equal([new DateOnly(2024, 1, 2), new DateOnly(2024, 1, 3), new DateOnly(2024, 1, 4)], ibm.Bars.Select(b => b.Date));
        Assert.Equal([102L, 300L, 400L], ibm.Bars.Select(b => b.Volume));
        Assert.Equal(
            [
                "IBM.csv:3: duplicate date 2024-01-02; line 6 is kept (the last one wins)",
                "IBM.csv:5: duplicate date 2024-01-02; line 6 is kept (the last one wins)",
            ],
            ibm.Rejected);
    }

    [Fact]
    public async Task FetchAsync_FromTo_KeepsOnlyRowsInTheRangeInclusive()
    {
        using var folder = new CsvTestFolder();
        var file = folder.Write("SPY.csv",
            YahooHeader
            + "2024-01-02,472.16,473.67,470.49,472.65,466.08,123623700\n"
            + "2024-01-03,470.43,471.19,468.17,468.79,462.27,103585900\n"
            + "2024-01-04,468.30,470.96,467.05,467.28,460.78,84232200\n"
            + "2024-01-05,467.49,470.44,466.43,467.92,461.41,86060800\n"
            + "2024-01-08,468.43,474.75,468.30,474.60,468.00,74879100\n");

        var results = await CsvTestFolder.FetchAsync(file, from: new DateOnly(2024, 1, 3), to: new DateOnly(2024, 1, 5));

        var spy = Assert.Single(results);
        Assert.Equal("SPY", spy.Symbol);
        Assert.Equal([new DateOnly(2024, 1, 3), new DateOnly(2024, 1, 4), new DateOnly(2024, 1, 5)], spy.Bars.Select(b => b.Date));
        Assert.Equal([468.79, 467.28, 467.92], spy.Bars.Select(b => b.Close));
        Assert.Empty(spy.Rejected);
    }

    [Fact]
    public async Task FetchAsync_FromAfterTo_IsRefused()
    {
        using var folder = new CsvTestFolder();
        var file = folder.Write("SPY.csv", YahooHeader);

        var ex = await Assert.ThrowsAsync<Core.LakehouseException>(() =>
            CsvTestFolder.FetchAsync(file, from: new DateOnly(2024, 2, 1), to: new DateOnly(2024, 1, 1)));

        Assert.Equal("date_from 2024-02-01 is after date_to 2024-01-01", ex.Message);
    }
}
