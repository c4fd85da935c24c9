using System.Net;
using System.Text;
using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// Dates at every door (decisions D34): upload rows, ingestion ranges and job ranges outside
/// 1900-01-01..tomorrow are refused naming the row or field; a far date in a read is only a bound; and a
/// lake that already holds a <c>year=9999</c> partition (written by an old build) is served.
/// </summary>
public sealed class DateRangeTests
{
    private static PriceBar Bar(string symbol, DateOnly date, double close) =>
        new(symbol, date, close, close + 1, close - 1, close, close, 1000, "v1", DateTimeOffset.UnixEpoch);

    private static readonly DateOnly Far = new(9999, 12, 31);

    [Fact]
    public async Task DoPut_OneRowDatedFarInTheFuture_IsRefusedWholeNamingTheRowAndNothingIsWritten()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        PriceBar[] bars = [Bar("FAR", new DateOnly(2020, 1, 1), 10), Bar("FAR", Far, 11), Bar("FAR", new DateOnly(2020, 1, 3), 12)];
        var before = server.Snapshot();

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.UploadAsync(bars, "v1", promote: true)).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("row 1", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("9999-12-31", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1900-01-01", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, server.Snapshot());
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "bronze", "prices_daily")));
        Assert.Empty(await client.ReadBarsAsync(TableQuery.Create("bronze", symbols: ["FAR"])).ToListAsync());
    }

    [Theory]
    [InlineData("1899-12-31", 0)]
    [InlineData("tomorrow+1", 2)]
    public async Task DoPutWithoutWaiting_RowOutsideTheRange_IsRefusedWholeBeforeTheAcknowledgement(string date, int row)
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        var day = date == "tomorrow+1" ? DateOnly.FromDateTime(DateTime.UtcNow).AddDays(2) : DateOnly.Parse(date, System.Globalization.CultureInfo.InvariantCulture);
        var bars = new List<PriceBar> { Bar("EDGE", new DateOnly(2020, 1, 1), 10), Bar("EDGE", new DateOnly(2020, 1, 2), 11) };
        bars.Insert(row, Bar("EDGE", day, 12));
        var batch = PriceBarBatches.ToBatch(bars);

        var ex = await Assert.ThrowsAsync<RpcException>(() => client.SubmitUploadAsync(batch.Schema, [batch], "v1", promote: true)).DefaultTimeout();

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains($"row {row}", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains(day.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture), ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "bronze", "prices_daily")));
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(server.DataDir, "_metadata"), "*.arrows", SearchOption.AllDirectories));
    }

    [Fact]
    public async Task DoPut_RowsOnTheEdgesOfTheRange_AreAccepted()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        var tomorrow = DateOnly.FromDateTime(DateTime.UtcNow).AddDays(1);

        var reports = await client.UploadAsync([Bar("EDGE", new DateOnly(1900, 1, 1), 10), Bar("EDGE", tomorrow, 11)], "v1", promote: true).DefaultTimeout();

        Assert.Equal(2L, reports.Single(r => r.Layer == "silver").Inserted);
        Assert.Equal(2L, reports.Single(r => r.Layer == "bronze").Inserted);
    }

    /// <summary>The lake an old build left: bronze holds 2020-01-01, 9999-12-31 and 2020-01-03 (written through the store, which takes any calendar date).</summary>
    private static async Task<string> LakeWithYear9999Async()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        var store = LakeStore.Open(dir);
        PriceBar[] bars = [Bar("ZZV", new DateOnly(2020, 1, 1), 10), Bar("ZZV", Far, 11), Bar("ZZV", new DateOnly(2020, 1, 3), 12)];
        await store.WriteAsync([new TableWrite(PriceTables.Bronze, PriceBarBatches.ToBatch(bars), "v1")]);
        await store.UpsertAsync(bars.Where(b => b.Date.Year == 2020).ToArray());
        Assert.Single(Directory.GetFiles(Path.Combine(dir, "bronze", "prices_daily"), "9999-v1-*.parquet"));
        return dir;
    }

    [Fact]
    public async Task LakeHoldingAYear9999Partition_ListFlightsFlightInfoStatsAndReads_ServeIt()
    {
        var dir = await LakeWithYear9999Async();
        await using var server = await TestServer.StartAsync(dataDir: dir);

        var listed = new List<FlightInfo>();
        using (var call = server.Raw.ListFlights(new FlightCriteria("")))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                listed.Add(call.ResponseStream.Current);
            }
        }
        var bronzeInfo = await server.Raw.GetInfo(FlightDescriptor.CreatePathDescriptor("bronze", "prices_daily")).ResponseAsync.DefaultTimeout();
        var farQuery = await server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(
            """{"layer":"bronze","symbols":["ZZV"],"date_from":"2020-01-02","date_to":"9999-12-31"}""")).ResponseAsync.DefaultTimeout();
        var stats = await Action(server, "stats");
        using var client = server.Client();
        var rows = await client.ReadBarsAsync(TableQuery.Create("bronze", symbols: ["ZZV"], dateTo: "9999-12-31")).ToListAsync();

        Assert.Equal(3, listed.Single(i => i.Descriptor.Paths.SequenceEqual(["bronze", "prices_daily"])).TotalRecords);
        Assert.Equal(2, listed.Single(i => i.Descriptor.Paths.SequenceEqual(["silver", "prices_daily"])).TotalRecords);
        Assert.Equal(3, bronzeInfo.TotalRecords);
        Assert.Equal(2, farQuery.TotalRecords);
        var bronze = stats.RootElement.EnumerateArray().Single(e => e.GetProperty("layer").GetString() == "bronze");
        Assert.Equal(("2020-01-01", "9999-12-31", 3L, 2L),
            (bronze.GetProperty("first_date").GetString(), bronze.GetProperty("last_date").GetString(),
             bronze.GetProperty("rows").GetInt64(), bronze.GetProperty("files").GetInt64()));
        Assert.Equal([new DateOnly(2020, 1, 1), new DateOnly(2020, 1, 3), Far], rows.Select(b => b.Date));
        Assert.Equal([10.0, 12.0, 11.0], rows.Select(b => b.Close));
    }

    [Fact]
    public async Task ReadQueries_DateToFarInTheFuture_AreOnlyAnUpperBound()
    {
        await using var server = await TestServer.StartAsync();
        using var client = server.Client();
        await client.UploadAsync([Bar("RD", new DateOnly(2024, 1, 2), 10), Bar("RD", new DateOnly(2024, 1, 3), 11)], "v1", promote: true).DefaultTimeout();
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };

        var flight = await client.ReadBarsAsync(TableQuery.Create(symbols: ["RD"], dateFrom: "0001-01-01", dateTo: "9999-12-31")).ToListAsync();
        var plan = await server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor("""{"symbols":["RD"],"date_to":"9999-12-31"}""")).ResponseAsync.DefaultTimeout();
        using var daily = JsonDocument.Parse(await http.GetStringAsync(new Uri("/prices/daily?symbol=RD&date_from=0001-01-01&date_to=9999-12-31", UriKind.Relative)).DefaultTimeout());

        Assert.Equal([10.0, 11.0], flight.Select(b => b.Close));
        Assert.Equal(2, plan.TotalRecords);
        Assert.Equal(2, daily.RootElement.GetArrayLength());
    }

    [Theory]
    [InlineData("ingest", """{"source":"synthetic","symbols":["ZZV"],"date_from":"1990-01-01","date_to":"9999-12-31"}""", "date_to 9999-12-31")]
    [InlineData("ingest", """{"source":"synthetic","symbols":["ZZV"],"date_from":"1800-01-01","date_to":"2020-01-31"}""", "date_from 1800-01-01")]
    [InlineData("promote", """{"source":"v1","date_from":"2020-01-01","date_to":"9999-12-31"}""", "date_to 9999-12-31")]
    public async Task Actions_RangeOutsideTheAcceptedDates_AreInvalidArgumentNamingTheField(string action, string body, string named)
    {
        await using var server = await TestServer.StartAsync();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Action(server, action, body));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(named, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Contains("1900-01-01", ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(server.DataDir, "bronze")));
    }

    [Theory]
    [InlineData("date_from=1990-01-01&date_to=9999-12-31", "date_to 9999-12-31")]
    [InlineData("date_from=0001-01-01&date_to=2020-01-01", "date_from 0001-01-01")]
    public async Task PostRangeJob_RangeOutsideTheAcceptedDates_Is400ProblemAndQueuesNothing(string range, string named)
    {
        await using var server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };

        using var response = await http.PostAsync(new Uri($"/prices/jobs/daily/range?symbol=ZZV&{range}", UriKind.Relative), null).DefaultTimeout();
        var body = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(named, body, StringComparison.Ordinal);
        Assert.Equal("[]", await http.GetStringAsync(new Uri("/prices/jobs", UriKind.Relative)).DefaultTimeout());
    }

    private static async Task<JsonDocument> Action(TestServer server, string type, string body = "")
    {
        using var call = server.Raw.DoAction(new FlightAction(type, Encoding.UTF8.GetBytes(body)));
        JsonDocument? last = null;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            last?.Dispose();
            last = JsonDocument.Parse(call.ResponseStream.Current.Body.ToByteArray());
        }
        return last ?? throw new InvalidOperationException($"{type} returned nothing");
    }
}
