using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Tests.Csv;

public sealed class CsvPriceSourceFormatTests
{
    [Fact]
    public async Task FetchAsync_YahooAndStooqFilesOfTheSameDays_GiveTheSameBarsExceptAdjClose()
    {
        using var folder = new CsvTestFolder();
        // Header quirks a real file carries: BOM, spaces, other casing, adj_close spelling, reordered columns.
        folder.Write("AAPL.csv",
            "\uFEFF date , OPEN,High,Low,Close,adj_close,Volume\n"
            + "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n"
            + "2024-01-03,184.22,185.88,183.43,184.25,183.55,58414500\n"
            + "2024-01-04,182.15,183.09,180.88,181.91,181.22,71983600\n");
        folder.Write("aapl.us.txt",
            "Date,Open,High,Low,Close,Volume\r\n"
            + "2024-01-02,187.15,188.44,183.89,185.64,82488700\r\n"
            + "2024-01-03,184.22,185.88,183.43,184.25,58414500\r\n"
            + "2024-01-04,182.15,183.09,180.88,181.91,71983600\r\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        Assert.Equal(["AAPL", "AAPL.US"], results.Select(r => r.Symbol));
        var yahoo = results[0];
        var stooq = results[1];
        Assert.All(results, r => Assert.Null(r.Error));
        Assert.All(results, r => Assert.Empty(r.Rejected));
        Assert.Equal([new DateOnly(2024, 1, 2), new DateOnly(2024, 1, 3), new DateOnly(2024, 1, 4)], yahoo.Bars.Select(b => b.Date));
        Assert.Equal(
            yahoo.Bars.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.Volume)),
            stooq.Bars.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.Volume)));
        Assert.Equal([184.94, 183.55, 181.22], yahoo.Bars.Select(b => b.AdjClose!.Value));
        Assert.All(stooq.Bars, b => Assert.Null(b.AdjClose));
        Assert.Equal(new PriceBar("AAPL", new DateOnly(2024, 1, 2), 187.15, 188.44, 183.89, 185.64, 184.94, 82488700, "csv", CsvTestFolder.Now), yahoo.Bars[0]);
        Assert.All(stooq.Bars, b => Assert.Equal(("AAPL.US", "csv", CsvTestFolder.Now), (b.Symbol, b.Source, b.IngestedAt)));
    }

    [Fact]
    public async Task FetchAsync_StooqBulkFile_TakesTheSymbolFromTickerAndReadsCompactDates()
    {
        using var folder = new CsvTestFolder();
        folder.Write("export.txt",
            "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
            + "MSFT.US,D,19860313,000000,0.0672,0.0753,0.0672,0.0726,1.0371e+09,0\n"
            + "MSFT.US,D,19860314,000000,0.0726,0.0762,0.0726,0.0753,308160000,0\n"
            + "MSFT.US,D,19860317,000000,0.0753,0.0766,0.0753,0.0762,133171000,0\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        var msft = Assert.Single(results);
        Assert.Equal("MSFT.US", msft.Symbol);
        Assert.Null(msft.Error);
        Assert.Empty(msft.Rejected);
        Assert.Equal([new DateOnly(1986, 3, 13), new DateOnly(1986, 3, 14), new DateOnly(1986, 3, 17)], msft.Bars.Select(b => b.Date));
        Assert.Equal([1_037_100_000L, 308_160_000L, 133_171_000L], msft.Bars.Select(b => b.Volume));
        Assert.Equal([0.0726, 0.0753, 0.0762], msft.Bars.Select(b => b.Close));
        Assert.All(msft.Bars, b => Assert.Null(b.AdjClose));
    }

    [Fact]
    public async Task FetchAsync_StooqBulkRowOfAnotherTicker_IsRejectedAndTheFileKeepsItsFirstTicker()
    {
        using var folder = new CsvTestFolder();
        folder.Write("mixed.txt",
            "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
            + "IBM.US,D,20240102,000000,162.0,163.0,161.0,162.5,100,0\n"
            + "KO.US,D,20240102,000000,59.3,59.8,59.1,59.6,12000,0\n"
            + "IBM.US,D,20240103,000000,161.0,162.0,160.0,161.5,300,0\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        var ibm = Assert.Single(results);
        Assert.Equal("IBM.US", ibm.Symbol);
        Assert.Equal([162.5, 161.5], ibm.Bars.Select(b => b.Close));
        Assert.Equal(["mixed.txt:3: <TICKER> 'KO.US' differs from the file's first ticker 'IBM.US' (one symbol per file)"], ibm.Rejected);
    }

    [Fact]
    public async Task FetchAsync_StooqBulkWeeklyFile_FailsNamingThePeriod()
    {
        using var folder = new CsvTestFolder();
        folder.Write("msft.us.txt",
            "<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>\n"
            + "MSFT.US,W,19860314,000000,0.0672,0.0762,0.0672,0.0753,1345260000,0\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        var msft = Assert.Single(results);
        Assert.Equal("MSFT.US", msft.Symbol);
        Assert.Empty(msft.Bars);
        Assert.Equal("msft.us.txt:2: <PER> is 'W'; only daily files (<PER> = D) are accepted", msft.Error);
    }

    [Fact]
    public async Task FetchAsync_FileWithBadHeader_FailsOnlyThatFileListingTheAcceptedHeaders()
    {
        using var folder = new CsvTestFolder();
        folder.Write("AAPL.csv", "Date,Open,High,Low,Close,Adj Close,Volume\n2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n");
        folder.Write("BAD.csv", "Date,Price\n2024-01-02,187.15\n");
        folder.Write("my prices.csv", "Date,Open,High,Low,Close,Volume\n2024-01-02,187.15,188.44,183.89,185.64,82488700\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        Assert.Equal(["AAPL", "BAD", "my prices.csv"], results.Select(r => r.Symbol));
        Assert.Null(results[0].Error);
        Assert.Equal(185.64, Assert.Single(results[0].Bars).Close);
        Assert.StartsWith("BAD.csv: header 'Date,Price' is not a known price file; accepted headers are 'Date,Open,High,Low,Close,Adj Close,Volume' (Yahoo", results[1].Error, StringComparison.Ordinal);
        Assert.Contains("'<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>' (Stooq bulk)", results[1].Error, StringComparison.Ordinal);
        Assert.Empty(results[1].Bars);
        Assert.Equal(
            "my prices.csv: the file name does not give a symbol (symbol 'my prices' contains ' '; allowed are letters, digits and . - ^ =); name the file <SYMBOL>.csv, or read this one file with --symbol",
            results[2].Error);
    }
}
