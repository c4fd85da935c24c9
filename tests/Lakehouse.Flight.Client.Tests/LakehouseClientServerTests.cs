using Apache.Arrow;
using Grpc.Core;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client.Tests;

/// <summary>The SDK against a real server in this process (Kestrel on 127.0.0.1:0, a temp data dir): what it sends and what it reads back.</summary>
public sealed class LakehouseClientServerTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Ingested = DateTimeOffset.UnixEpoch;

    /// <summary>AAPL on three days and MSFT on two, with prices chosen by hand (Friday 5 January 2024 to Tuesday 9 January).</summary>
    private static readonly PriceBar[] Bars =
    [
        new("AAPL", new DateOnly(2024, 1, 5), 181.99, 182.76, 180.17, 181.18, 181.18, 62_303_300, "vendor_x", Ingested),
        new("AAPL", new DateOnly(2024, 1, 8), 182.09, 185.60, 181.50, 185.56, 185.56, 59_144_500, "vendor_x", Ingested),
        new("AAPL", new DateOnly(2024, 1, 9), 183.92, 185.15, 182.73, 185.14, 185.14, 42_841_800, "vendor_x", Ingested),
        new("MSFT", new DateOnly(2024, 1, 5), 368.97, 372.06, 366.50, 367.75, 367.75, 20_987_000, "vendor_x", Ingested),
        new("MSFT", new DateOnly(2024, 1, 8), 369.30, 375.20, 369.01, 374.69, 374.69, 23_134_000, "vendor_x", Ingested),
    ];

    private TestServer _server = null!;
    private LakehouseClient _client = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _client = _server.Client();
    }

    public async Task DisposeAsync()
    {
        _client.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task UploadAsync_WithPromote_ReportsEachLayerAndReadBarsReturnsThePricesSent()
    {
        var reports = await _client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();

        Assert.Equal(
            [("bronze", "AAPL", 3L), ("bronze", "MSFT", 2L), ("silver", "AAPL", 3L), ("silver", "MSFT", 2L)],
            reports.Select(r => (r.Layer, r.Symbol, r.Inserted)).Order());
        var read = await _client.ReadBarsAsync(TableQuery.Create(symbols: ["MSFT", "AAPL"])).ToListAsync();
        Assert.Equal(
            Bars.Select(b => (b.Symbol, b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)),
            read.Select(b => (b.Symbol, b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)));
        Assert.All(read, b => Assert.Equal("vendor_x", b.Source));
    }

    [Fact]
    public async Task GetPricesAsync_DateRangeAndColumns_OnlyThoseRowsAndColumns()
    {
        await _client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();

        var batches = await _client.GetPricesAsync(TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-01-08", dateTo: "2024-01-09",
            columns: ["symbol", "date", "close"])).ToListAsync();

        var batch = Assert.Single(batches);
        Assert.Equal(["symbol", "date", "close"], batch.Schema.FieldsList.Select(f => f.Name));
        var dates = (Date32Array)batch.Column("date");
        Assert.Equal([new DateOnly(2024, 1, 8), new DateOnly(2024, 1, 9)], Enumerable.Range(0, dates.Length).Select(i => dates.GetDateOnly(i)!.Value));
        Assert.Equal([185.56, 185.14], ((DoubleArray)batch.Column("close")).Values.ToArray());
    }

    [Fact]
    public async Task PlanAsync_TwoSymbols_ExactRowCountAndTheSymbolsInOutputOrder()
    {
        await _client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();

        var plan = await _client.PlanAsync(TableQuery.Create(symbols: ["MSFT", "AAPL", "NONE"], dateFrom: "2024-01-08")).DefaultTimeout();
        var schema = await _client.GetSchemaAsync(TableQuery.Create(columns: ["date", "volume"])).DefaultTimeout();

        Assert.Equal(3, plan.TotalRecords);
        Assert.Equal(["AAPL", "MSFT"], plan.Symbols);
        Assert.Contains("close", plan.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(["date", "volume"], schema.FieldsList.Select(f => f.Name));
    }

    [Fact]
    public async Task ListDatasetsAsync_AfterAnUpload_SilverAndBronzeCountTheRows()
    {
        await _client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();

        var datasets = await _client.ListDatasetsAsync().DefaultTimeout();

        Assert.Equal(5, datasets.Single(d => (d.Layer, d.Table) == ("silver", "prices_daily")).TotalRecords);
        Assert.Equal(5, datasets.Single(d => (d.Layer, d.Table) == ("bronze", "prices_daily")).TotalRecords);
    }

    [Fact]
    public async Task SubmitUploadAsync_ThenWaitForUpload_AcknowledgesAndTheRowsBecomeReadable()
    {
        var batch = PriceBarBatches.ToBatch(Bars, 0, Bars.Length);

        var ack = await _client.SubmitUploadAsync(batch.Schema, [batch], "vendor_x", promote: true).DefaultTimeout();
        var reports = await _client.WaitForUploadAsync(ack.RunId).DefaultTimeout();

        Assert.Equal((5L, 2), (ack.Rows, ack.Symbols));
        Assert.Equal(5, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        var read = await _client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync();
        Assert.Equal([181.18, 185.56, 185.14], read.Select(b => b.Close));
    }

    [Fact]
    public async Task GetPricesAsync_UnknownColumn_RpcExceptionInvalidArgumentNamingIt()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            _client.GetPricesAsync(TableQuery.Create(symbols: ["AAPL"], columns: ["colour"])).ToListAsync()).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("colour", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UploadAsync_RowWithHighBelowTheClose_SilverRejectsThatRowSayingWhyAndKeepsTheOther()
    {
        PriceBar[] upload = [Bars[0], Bars[1] with { High = 170.00 }];

        var reports = await _client.UploadAsync(upload, "vendor_x", promote: true).DefaultTimeout();

        var silver = Assert.Single(reports, r => r.Layer == "silver");
        Assert.Equal((1L, 1L), (silver.Inserted, silver.Rejected));
        Assert.Contains("AAPL 2024-01-08: high 170 is below max(open, close) 185.56", Assert.Single(silver.RejectReasons!), StringComparison.Ordinal);
        var read = await _client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync();
        Assert.Equal([(new DateOnly(2024, 1, 5), 181.18)], read.Select(b => (b.Date, b.Close)));
    }

    [Fact]
    public async Task UploadAsync_RowDatedInTheYear9999_RpcExceptionInvalidArgumentNamingTheRowAndNothingIsWritten()
    {
        PriceBar[] upload = [Bars[0], Bars[1] with { Date = new DateOnly(9999, 12, 31) }];

        var ex = await Assert.ThrowsAsync<RpcException>(() => _client.UploadAsync(upload, "vendor_x", promote: true)).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("row 1", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("9999-12-31", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Empty(await _client.ReadBarsAsync(TableQuery.Create("bronze", symbols: ["AAPL"])).ToListAsync());
    }
}
