using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class ReadTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2024, 1, 1);
    private static readonly DateOnly To = new(2024, 3, 31);
    private TestServer _server = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _bars = SyntheticBars.Generate(["AAPL", "MSFT", "^GSPC"], From, To);
        using var client = _server.Client();
        await client.UploadAsync(_bars, "vendor_x", promote: true).DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task ReadBars_AfterUpload_ValuesEqualValuesWritten()
    {
        using var client = _server.Client();

        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL", "MSFT", "^GSPC"])).ToListAsync();

        var expected = _bars.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).ToList();
        Assert.Equal(expected.Count, read.Count);
        for (var i = 0; i < expected.Count; i++)
        {
            Assert.True(expected[i].SameValues(read[i]), $"row {i}: wrote {expected[i]}, read {read[i]}");
            Assert.Equal((expected[i].Symbol, expected[i].Date, "vendor_x"), (read[i].Symbol, read[i].Date, read[i].Source));
        }
    }

    [Fact]
    public async Task RawDoGet_JsonTicketWithProjectionAndRange_ReturnsExactRows()
    {
        var ticket = new FlightTicket("""{"symbols":["msft"],"date_from":"2024-02-01","date_to":"2024-02-29","columns":["date","close"]}""");

        using var call = _server.Raw.GetStream(ticket);
        var rows = new List<(DateOnly, double)>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            var b = call.ResponseStream.Current;
            Assert.Equal(["date", "close"], b.Schema.FieldsList.Select(f => f.Name));
            var date = (Date32Array)b.Column(0);
            var close = (DoubleArray)b.Column(1);
            for (var i = 0; i < b.Length; i++)
            {
                rows.Add((date.GetDateOnly(i)!.Value, close.GetValue(i)!.Value));
            }
        }

        var expected = _bars.Where(b => b.Symbol == "MSFT" && b.Date.Month == 2).Select(b => (b.Date, b.Close)).ToList();
        Assert.Equal(21, expected.Count);
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task GetFlightInfo_Query_OneEndpointPerSymbolWithExactCounts()
    {
        var command = """{"symbols":["MSFT","AAPL","NOPE"],"date_from":"2024-01-15","date_to":"2024-03-10"}""";

        var info = await _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(command)).ResponseAsync.DefaultTimeout();

        var inRange = _bars.Where(b => b.Date >= new DateOnly(2024, 1, 15) && b.Date <= new DateOnly(2024, 3, 10)).ToList();
        Assert.Equal(2, info.Endpoints.Count);
        Assert.Equal(inRange.Count(b => b.Symbol is "AAPL" or "MSFT"), info.TotalRecords);
        Assert.Equal(10, info.Schema.FieldsList.Count);
        foreach (var (endpoint, symbol) in info.Endpoints.Zip(new[] { "AAPL", "MSFT" }))
        {
            using var call = _server.Raw.GetStream(endpoint.Ticket);
            var count = 0;
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                var symbols = (StringArray)call.ResponseStream.Current.Column("symbol");
                Assert.All(Enumerable.Range(0, symbols.Length), i => Assert.Equal(symbol, symbols.GetString(i)));
                count += call.ResponseStream.Current.Length;
            }
            Assert.Equal(inRange.Count(b => b.Symbol == symbol), count);
        }
    }

    [Fact]
    public async Task GetFlightInfo_PathDescriptor_CoversTheDataset()
    {
        var info = await _server.Raw.GetInfo(FlightDescriptor.CreatePathDescriptor("silver", "prices_daily")).ResponseAsync.DefaultTimeout();

        Assert.Equal(3, info.Endpoints.Count);
        Assert.Equal(_bars.Count, info.TotalRecords);
    }

    [Fact]
    public async Task GetSchema_Projection_IsRespected()
    {
        var schema = await _server.Raw.GetSchema(FlightDescriptor.CreateCommandDescriptor("""{"columns":["date","volume","symbol"]}"""))
            .ResponseAsync.DefaultTimeout();

        Assert.Equal(["date", "volume", "symbol"], schema.FieldsList.Select(f => f.Name));
        Assert.Equal([ArrowTypeId.Date32, ArrowTypeId.Int64, ArrowTypeId.String], schema.FieldsList.Select(f => f.DataType.TypeId));
    }

    [Fact]
    public async Task DoGet_UnknownSymbol_IsSchemaOnlyStream()
    {
        using var call = _server.Raw.GetStream(new FlightTicket("""{"symbols":["ZZZZ"]}"""));

        var schema = await call.ResponseStream.Schema.AsTask().DefaultTimeout();
        var any = await call.ResponseStream.MoveNext().DefaultTimeout();

        Assert.False(any);
        Assert.Equal(PriceTables.SilverSchema.FieldsList.Select(f => f.Name), schema.FieldsList.Select(f => f.Name));
    }

    [Fact]
    public async Task ListDatasets_ReportsBothLayersWithTotals()
    {
        using var client = _server.Client();

        var datasets = await client.ListDatasetsAsync().DefaultTimeout();

        Assert.Equal(["silver/prices_daily", "bronze/prices_daily", "silver/corporate_actions", "gold/prices_monthly", "gold/daily_metrics"], datasets.Select(d => $"{d.Layer}/{d.Table}"));
        var silver = Assert.Single(datasets, d => d.Layer == "silver" && d.Table == "prices_daily");
        var bronze = Assert.Single(datasets, d => d.Layer == "bronze");
        Assert.Equal(_bars.Count, silver.TotalRecords);
        Assert.Equal(_bars.Count, bronze.TotalRecords);
        Assert.Equal("run_id", bronze.Schema.FieldsList[^1].Name);
    }

    [Fact]
    public async Task ListFlights_Criteria_FiltersDatasets()
    {
        using var call = _server.Raw.ListFlights(new FlightCriteria("bronze"));
        var infos = new List<FlightInfo>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            infos.Add(call.ResponseStream.Current);
        }

        var info = Assert.Single(infos);
        Assert.Equal(["bronze", "prices_daily"], info.Descriptor.Paths);
        Assert.Equal(_bars.Count, info.TotalRecords);
    }

    [Fact]
    public async Task GetFlightInfo_WithLimit_IsOneEndpointHonouringTheLimit()
    {
        var info = await _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor("""{"limit":70}""")).ResponseAsync.DefaultTimeout();

        var endpoint = Assert.Single(info.Endpoints);
        Assert.Equal(70, info.TotalRecords);
        using var call = _server.Raw.GetStream(endpoint.Ticket);
        var rows = 0;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            rows += call.ResponseStream.Current.Length;
        }
        Assert.Equal(70, rows);
    }

    [Fact]
    public async Task PlanAndSchema_ThroughSdk_MatchTheData()
    {
        using var client = _server.Client();
        var query = TableQuery.Create(symbols: ["^GSPC", "AAPL"], columns: ["close"]);

        var plan = await client.PlanAsync(query).DefaultTimeout();
        var schema = await client.GetSchemaAsync(query).DefaultTimeout();
        var batches = await client.GetPricesAsync(query).ToListAsync();

        Assert.Equal(["AAPL", "^GSPC"], plan.Symbols);
        Assert.Equal(_bars.Count(b => b.Symbol is "AAPL" or "^GSPC"), plan.TotalRecords);
        Assert.Equal("close", Assert.Single(schema.FieldsList).Name);
        Assert.Equal(plan.TotalRecords, batches.Sum(b => b.Length));
    }

    [Theory]
    [InlineData("limit over several symbols", "AAPL,MSFT", 10)]
    [InlineData("limit over every symbol", "", 5)]
    [InlineData("several symbols", "MSFT,AAPL", 0)]
    [InlineData("every symbol", "", 0)]
    public async Task PlanAsync_AnyQueryShape_ReturnsSymbolsAndRowsOfTheRead(string shape, string symbols, long limit)
    {
        using var client = _server.Client();
        var query = TableQuery.Create(symbols: symbols.Split(',', StringSplitOptions.RemoveEmptyEntries), dateFrom: "2024-02-01", limit: limit);

        var plan = await client.PlanAsync(query).DefaultTimeout();
        var read = (await client.GetPricesAsync(query).ToListAsync()).Sum(b => b.Length);

        var expectedSymbols = symbols.Length == 0 ? ["AAPL", "MSFT", "^GSPC"] : symbols.Split(',').Order(StringComparer.Ordinal).ToArray();
        Assert.True(expectedSymbols.SequenceEqual(plan.Symbols), $"{shape}: planned [{string.Join(", ", plan.Symbols)}]");
        var all = _bars.Count(b => expectedSymbols.Contains(b.Symbol) && b.Date >= new DateOnly(2024, 2, 1));
        Assert.Equal(limit > 0 ? Math.Min(limit, all) : all, plan.TotalRecords);
        Assert.Equal(plan.TotalRecords, read);
    }

    [Fact]
    public async Task DoGet_ManyRows_IsSlicedIntoSmallMessages()
    {
        await _server.Server.Store.UpsertAsync(SyntheticBars.Generate(["BIG"], new DateOnly(1990, 1, 1), new DateOnly(2023, 12, 31))).DefaultTimeout();
        var maxRows = Server.Internal.DoGetStreamer.RowsPerMessage(PriceTables.SilverSchema, 1 << 20);

        using var call = _server.Raw.GetStream(new FlightTicket("""{"symbols":["BIG"]}"""));
        var lengths = new List<int>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            lengths.Add(call.ResponseStream.Current.Length);
        }

        Assert.True(lengths.Sum() > maxRows, "the symbol must need more than one message");
        Assert.True(lengths.Count > 1);
        Assert.All(lengths, l => Assert.InRange(l, 1, maxRows));
    }

    public static TheoryData<string, string> BadQueries => new()
    {
        { """{"symbols":["AAPL"]""", "malformed JSON" },
        { """{"layer":"platinum"}""", "unknown layer 'platinum'" },
        { """{"table":"trades"}""", "unknown dataset 'silver/trades'" },
        { """{"date_from":"2024-03-01","date_to":"2024-01-01"}""", "date_from 2024-03-01 is after date_to 2024-01-01" },
        { """{"date_from":"2024-13-01"}""", "not an ISO date" },
        { """{"symbols":["../x"]}""", "symbol '../x' contains '/'" },
        { """{"columns":["price"]}""", "unknown column 'price' in silver/prices_daily: valid columns are symbol, date" },
        { """{"colour":"red"}""", "colour" },
    };

    [Theory]
    [MemberData(nameof(BadQueries))]
    public async Task BadTicket_IsInvalidArgumentNamingTheProblem_AndLakeUnchanged(string ticket, string expected)
    {
        var before = _server.Snapshot();

        var get = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = _server.Raw.GetStream(new FlightTicket(ticket));
            await call.ResponseStream.MoveNext().DefaultTimeout();
        });
        var info = await Assert.ThrowsAsync<RpcException>(() =>
            _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(ticket)).ResponseAsync.DefaultTimeout());

        Assert.Equal(StatusCode.InvalidArgument, get.StatusCode);
        Assert.Contains(expected, get.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(StatusCode.InvalidArgument, info.StatusCode);
        Assert.Equal(before, _server.Snapshot());
    }
}
