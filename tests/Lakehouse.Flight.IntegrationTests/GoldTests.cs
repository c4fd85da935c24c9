using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Gold;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>The gold layer through a real server: rebuilt by DoPut with promote, served like any table, rebuilt by the build-gold action.</summary>
public sealed class GoldTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2023, 1, 1);
    private static readonly DateOnly To = new(2024, 6, 30);

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task DoPutWithPromote_RebuildsGold_ServedByFlightAndHttp()
    {
        using var client = _server.Client();
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], From, To);
        var aapl = bars.Where(b => b.Symbol == "AAPL").ToList();

        var put = await client.UploadAsync(bars, "vendor_x", promote: true).DefaultTimeout();

        Assert.Equal(["bronze", "bronze", "silver", "silver"], put.Select(r => r.Layer));
        Assert.Single(Directory.GetFiles(Path.Combine(_server.DataDir, "gold", "daily_metrics"), "2024-*.parquet"));
        Assert.True(File.Exists(Path.Combine(_server.DataDir, "gold", "reports", "MSFT_daily_report.csv")));

        var listed = new List<FlightInfo>();
        using (var list = _server.Raw.ListFlights(new FlightCriteria("gold")))
        {
            while (await list.ResponseStream.MoveNext().DefaultTimeout())
            {
                listed.Add(list.ResponseStream.Current);
            }
        }
        Assert.Equal([("gold/prices_monthly", 36L), ("gold/daily_metrics", (long)bars.Count)],
            listed.Select(i => (string.Join('/', i.Descriptor.Paths), i.TotalRecords)));

        var schema = await _server.Raw.GetSchema(FlightDescriptor.CreatePathDescriptor("gold", "daily_metrics")).ResponseAsync.DefaultTimeout();
        Assert.Equal(GoldTables.DailyMetricsSchema.FieldsList.Select(f => f.Name), schema.FieldsList.Select(f => f.Name));
        var info = await _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(
            """{"layer":"gold","table":"daily_metrics","symbols":["AAPL"],"date_from":"2024-01-01"}""")).ResponseAsync.DefaultTimeout();
        Assert.Equal(aapl.Count(b => b.Date.Year == 2024), info.TotalRecords);

        // DoGet on the endpoint's ticket: the calculator's values over the uploaded rows.
        var expected = GoldCalculator.DailyMetrics(PriceBarBatches.ToBatch(aapl));
        var sma200 = new List<double?>();
        using (var call = _server.Raw.GetStream(Assert.Single(info.Endpoints).Ticket))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                var b = call.ResponseStream.Current;
                sma200.AddRange(Enumerable.Range(0, b.Length).Select(i => ((DoubleArray)b.Column("sma_200")).GetValue(i)));
            }
        }
        var expectedSma = (DoubleArray)expected.Column("sma_200");
        Assert.Equal(Enumerable.Range(0, expected.Length).Select(expectedSma.GetValue).TakeLast(sma200.Count), sma200);
        Assert.All(sma200, v => Assert.NotNull(v));

        using var http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint };
        var json = await http.GetStringAsync("/prices/daily?layer=gold&table=daily_metrics&symbol=AAPL&limit=3&columns=date,drawdown").DefaultTimeout();
        using var doc = JsonDocument.Parse(json);
        var drawdown = (DoubleArray)expected.Column("drawdown");
        var dates = (Date32Array)expected.Column("date");
        Assert.Equal(
            Enumerable.Range(expected.Length - 3, 3).Select(i => (dates.GetDateOnly(i)!.Value.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), drawdown.GetValue(i)!.Value)),
            doc.RootElement.EnumerateArray().Select(r => (r.GetProperty("date").GetString()!, r.GetProperty("drawdown").GetDouble())));
    }

    [Fact]
    public async Task HttpDaily_GoldMonthlyTable_ServesItsInt32Column_AsJsonAndCsv()
    {
        using var client = _server.Client();
        var bars = SyntheticBars.Generate(["AAPL"], From, To);
        await client.UploadAsync(bars, "vendor_x", promote: true).DefaultTimeout();
        var january = bars.Count(b => b.Date.Year == 2024 && b.Date.Month == 1);

        using var http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint };
        using var json = await http.GetAsync(new Uri("/prices/daily?layer=gold&table=prices_monthly&symbol=AAPL&date_from=2024-01-01&date_to=2024-01-31", UriKind.Relative)).DefaultTimeout();
        var text = await json.Content.ReadAsStringAsync();
        Assert.True(json.StatusCode == System.Net.HttpStatusCode.OK, text);
        using var doc = JsonDocument.Parse(text);
        Assert.Equal(january, doc.RootElement.EnumerateArray().Single().GetProperty("trading_days").GetInt32());

        using var request = new HttpRequestMessage(HttpMethod.Get, "/prices/daily?layer=gold&table=prices_monthly&symbol=AAPL&date_from=2024-01-01&date_to=2024-01-31&columns=symbol,trading_days");
        request.Headers.Accept.ParseAdd("text/csv");
        using var csv = await http.SendAsync(request).DefaultTimeout();
        Assert.Equal(System.Net.HttpStatusCode.OK, csv.StatusCode);
        Assert.Equal(["symbol,trading_days", $"AAPL,{january}"], (await csv.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries));
    }

    [Fact]
    public async Task BuildGoldAction_AllSymbolsAfterPromote_StreamsProgressThenUnchangedReports()
    {
        using var client = _server.Client();
        var symbols = Enumerable.Range(0, 12).Select(i => $"G{i:D2}").ToArray();
        await client.UploadAsync(SyntheticBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31)), "vendor_x", promote: true)
            .DefaultTimeout();

        var results = await Action("build-gold", """{"symbols":[]}""");

        var progress = results[..^1].Select(r => r.RootElement.GetProperty("progress")).ToArray();
        // One progress result per chunk of GoldBuilder.ChunkSymbols symbols.
        var chunks = (symbols.Length + GoldBuilder.ChunkSymbols - 1) / GoldBuilder.ChunkSymbols;
        Assert.Equal(Enumerable.Range(1, chunks).Select(k => (Math.Min(k * GoldBuilder.ChunkSymbols, 12), 12)), progress.Select(p => (p.GetProperty("symbols_done").GetInt32(), p.GetProperty("symbols_total").GetInt32())));
        var reports = JsonSerializer.Deserialize<List<StorageReport>>(results[^1].RootElement.GetRawText(), StorageReport.JsonOptions)!;
        Assert.Equal(24, reports.Count);
        Assert.All(reports, r => Assert.Equal(("gold", 0L, 0L), (r.Layer, r.Inserted + r.Updated, r.Rejected)));
        Assert.All(reports, r => Assert.Equal(r.Rows, r.Unchanged));
        Assert.Equal(symbols, reports.Where(r => r.Table == "daily_metrics").Select(r => r.Symbol));
    }

    [Fact]
    public async Task BuildGoldAction_UnknownSymbolOrReader_IsRefused()
    {
        await using var server = await TestServer.StartAsync(TestServer.WithAuth);
        var raw = server.Raw;

        var reader = await Assert.ThrowsAsync<RpcException>(() => Drain(raw.DoAction(new FlightAction("build-gold", ""), TestServer.Bearer(TestServer.ReaderToken))));
        var unknown = await Assert.ThrowsAsync<RpcException>(() =>
            Drain(raw.DoAction(new FlightAction("build-gold", """{"symbols":["nope"]}"""), TestServer.Bearer(TestServer.WriterToken))));

        Assert.Equal(StatusCode.PermissionDenied, reader.StatusCode);
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        Assert.Contains("no silver prices for NOPE", unknown.Status.Detail, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("daily_metrics")]
    [InlineData("prices_monthly")]
    public async Task DoPut_ToGoldTable_IsRefusedAndWritesNothing(string table)
    {
        var before = _server.Snapshot();
        var batch = PriceBarBatches.ToBatch(SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)));

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor($$"""{"table":"{{table}}","source":"lab"}"""), batch.Schema)
                .DefaultTimeout();
            await call.RequestStream.WriteAsync(batch).DefaultTimeout();
            await call.RequestStream.CompleteAsync().DefaultTimeout();
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains($"unknown table '{table}' for upload: use one of prices_daily, corporate_actions", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    private async Task<List<JsonDocument>> Action(string type, string body)
    {
        using var call = _server.Raw.DoAction(new FlightAction(type, body));
        var results = new List<JsonDocument>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(JsonDocument.Parse(call.ResponseStream.Current.Body.Memory));
        }
        return results;
    }

    private static async Task Drain(AsyncServerStreamingCall<FlightResult> call)
    {
        using (call)
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
            }
        }
    }
}
