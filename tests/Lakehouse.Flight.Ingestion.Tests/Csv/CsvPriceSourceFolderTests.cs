using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion.Csv;

namespace Lakehouse.Flight.Ingestion.Tests.Csv;

public sealed class CsvPriceSourceFolderTests
{
    private const string YahooHeader = "Date,Open,High,Low,Close,Adj Close,Volume\n";

    [Fact]
    public async Task FetchAsync_FolderWithSymbolFilter_ReadsOnlyThoseSymbolsAndFailsTheMissingOne()
    {
        using var folder = new CsvTestFolder();
        folder.Write("AAPL.csv", YahooHeader + "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n");
        folder.Write("MSFT.csv", YahooHeader + "2024-01-02,373.86,375.90,366.77,370.87,367.75,25258600\n");
        folder.Write("GOOG.csv", YahooHeader + "2024-01-02,139.60,140.61,137.74,139.56,139.37,20071900\n");
        // Sub-folders are not read: this file would otherwise replace AAPL's 2024-01-02.
        Directory.CreateDirectory(Path.Combine(folder.Path, "old"));
        folder.Write("old/AAPL.csv", YahooHeader + "2024-01-02,1,1,1,1,1,1\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path, ["msft", "AAPL", "TSLA"]);

        Assert.Equal(["AAPL", "MSFT", "TSLA"], results.Select(r => r.Symbol));
        Assert.Equal(185.64, Assert.Single(results[0].Bars).Close);
        Assert.Equal(370.87, Assert.Single(results[1].Bars).Close);
        Assert.Null(results[0].Error);
        Assert.Null(results[1].Error);
        Assert.Empty(results[2].Bars);
        Assert.Equal($"no file for TSLA in '{folder.Path}' (expected TSLA.csv, or a Stooq file whose <TICKER> is TSLA)", results[2].Error);
    }

    [Fact]
    public async Task FetchAsync_TwoFilesOfOneSymbol_MergeWithTheLaterFileWinning()
    {
        using var folder = new CsvTestFolder();
        folder.Write("AAPL.csv", YahooHeader
            + "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n"
            + "2024-01-03,184.22,185.88,183.43,184.25,183.55,58414500\n");
        folder.Write("aapl.txt", "Date,Open,High,Low,Close,Volume\n"
            + "2024-01-03,184.22,185.88,183.43,184.30,58414600\n"
            + "2024-01-04,182.15,183.09,180.88,181.91,71983600\n");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        var aapl = Assert.Single(results);
        Assert.Equal("AAPL", aapl.Symbol);
        Assert.Equal([new DateOnly(2024, 1, 2), new DateOnly(2024, 1, 3), new DateOnly(2024, 1, 4)], aapl.Bars.Select(b => b.Date));
        Assert.Equal([185.64, 184.30, 181.91], aapl.Bars.Select(b => b.Close));
        Assert.Equal([184.94, null, null], aapl.Bars.Select(b => b.AdjClose));
        Assert.Equal(["AAPL.csv:3: 2024-01-03 is replaced by aapl.txt:2 (the later file wins)"], aapl.Rejected);
    }

    [Fact]
    public async Task FetchAsync_SingleFileWithOneSymbol_UsesThatSymbolOverTheFileName()
    {
        using var folder = new CsvTestFolder();
        var file = folder.Write("download (3).csv", YahooHeader + "2024-01-02,373.86,375.90,366.77,370.87,367.75,25258600\n");

        var results = await CsvTestFolder.FetchAsync(file, ["msft"]);

        var msft = Assert.Single(results);
        Assert.Equal("MSFT", msft.Symbol);
        Assert.Null(msft.Error);
        var bar = Assert.Single(msft.Bars);
        Assert.Equal(("MSFT", new DateOnly(2024, 1, 2), 370.87, 25258600L), (bar.Symbol, bar.Date, bar.Close, bar.Volume));
    }

    [Fact]
    public async Task FetchAsync_Folder_ReadsCsvAndTxtInAnyCaseAndFailsAnEmptyFile()
    {
        using var folder = new CsvTestFolder();
        folder.Write("IBM.CSV", YahooHeader + "2024-01-02,162.00,163.00,161.00,162.50,162.50,100\n");
        folder.Write("ko.TXT", "Date,Open,High,Low,Close,Volume\n2024-01-02,59.30,59.80,59.10,59.60,12000\n");
        folder.Write("EMPTY.csv", "");
        folder.Write("README.md", "not a price file");

        var results = await CsvTestFolder.FetchAsync(folder.Path);

        Assert.Equal(["EMPTY", "IBM", "KO"], results.Select(r => r.Symbol));
        Assert.StartsWith("EMPTY.csv: the file is empty; expected a header: 'Date,Open,High,Low,Close,Adj Close,Volume'", results[0].Error, StringComparison.Ordinal);
        Assert.Equal(162.50, Assert.Single(results[1].Bars).Close);
        Assert.Equal(59.60, Assert.Single(results[2].Bars).Close);
    }

    [Fact]
    public async Task FetchAsync_CancelledToken_StopsWithOperationCanceled()
    {
        using var folder = new CsvTestFolder();
        folder.Write("AAPL.csv", YahooHeader + "2024-01-02,187.15,188.44,183.89,185.64,184.94,82488700\n");
        using var cts = new CancellationTokenSource();
        cts.Cancel();

        var count = 0;
        await Assert.ThrowsAnyAsync<OperationCanceledException>(async () =>
        {
            await foreach (var _ in new CsvPriceSource().FetchAsync(new SourceRequest([], null, null, folder.Path), cts.Token))
            {
                count++;
            }
        });

        Assert.Equal(0, count);
    }

    [Fact]
    public async Task FetchAsync_MissingPath_ThrowsInvalidArgumentNamingThePath()
    {
        using var folder = new CsvTestFolder();
        var missing = Path.Combine(folder.Path, "nowhere");

        var ex = await Assert.ThrowsAsync<LakehouseException>(() => CsvTestFolder.FetchAsync(missing));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal($"'{missing}' does not exist: give a CSV file or a folder of them", ex.Message);
    }
}
