using System.Net;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Grpc.Core;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// As-of reads, versions and snapshots over a real server (docs/decisions.md D38): DoGet tickets and GetFlightInfo
/// endpoints, the SDK, the HTTP API; bad as-of values refused naming the field; a snapshot read after a vacuum that
/// made the unpinned old versions unreadable (NotFound / 404 naming the oldest readable version).
/// </summary>
public sealed class VersionTests : IAsyncLifetime
{
    private static readonly DateOnly Day = CorrectedLake.Day;

    private TestServer _server = null!;
    private HttpClient _http = null!;
    private long _ingested;
    private long _corrected;
    private DateTimeOffset _between;
    private double _oldClose;
    private double _newClose;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o => o.WarmServing = false);
        _http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
        var lake = await CorrectedLake.WriteAsync(_server.Server.Store);
        (_ingested, _corrected, _between, _oldClose, _newClose) = (lake.Ingested, lake.Corrected, lake.Between, lake.OldClose, lake.NewClose);
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Fact]
    public async Task DoGet_TicketWithVersionOrAsOf_ReadsThatMomentsRows()
    {
        Assert.Equal(_oldClose, Assert.Single(await CloseOnDayAsync($$"""{"symbols":["AAPL"],"version":{{_ingested}}}""")));
        Assert.Equal(_oldClose, Assert.Single(await CloseOnDayAsync($$"""{"symbols":["AAPL"],"as_of":"{{ReadAsOf.FormatInstant(_between)}}"}""")));
        Assert.Equal(_newClose, Assert.Single(await CloseOnDayAsync($$"""{"symbols":["AAPL"],"version":{{_corrected}}}""")));
        Assert.Equal(_newClose, Assert.Single(await CloseOnDayAsync("""{"symbols":["AAPL"]}""")));
    }

    [Fact]
    public async Task GetFlightInfo_AsOfAVersion_EndpointsCarryItInTheirTickets()
    {
        var command = $$"""{"date_from":"2026-11-12","date_to":"2026-11-12","version":{{_ingested}}}""";
        var info = await _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(command)).ResponseAsync.DefaultTimeout();

        Assert.Equal(2, info.Endpoints.Count);
        Assert.Equal(2, info.TotalRecords);
        foreach (var endpoint in info.Endpoints)
        {
            Assert.Equal(ReadAsOf.AtVersion(_ingested), QueryCodec.ParseQuery(endpoint.Ticket.Ticket.Span).AsOf);
        }
        var aapl = info.Endpoints.Single(e => QueryCodec.ParseQuery(e.Ticket.Ticket.Span).Symbols.Single() == "AAPL");
        Assert.Equal(_oldClose, Assert.Single(await CloseOnDayAsync(Encoding.UTF8.GetString(aapl.Ticket.Ticket.Span))));
    }

    [Fact]
    public async Task DoGet_BadAsOf_IsInvalidArgumentNamingTheField()
    {
        var both = await Assert.ThrowsAsync<RpcException>(() => CloseOnDayAsync($$"""{"version":1,"as_of":"2026-11-30T22:00:00Z"}"""));
        Assert.Equal(StatusCode.InvalidArgument, both.StatusCode);
        Assert.Contains("version and as_of", both.Status.Detail, StringComparison.Ordinal);

        var future = await Assert.ThrowsAsync<RpcException>(() => CloseOnDayAsync("""{"as_of":"2999-01-01T00:00:00Z"}"""));
        Assert.Equal(StatusCode.InvalidArgument, future.StatusCode);
        Assert.Contains("as_of 2999-01-01", future.Status.Detail, StringComparison.Ordinal);

        var unknown = await Assert.ThrowsAsync<RpcException>(() => CloseOnDayAsync($$"""{"version":{{_corrected + 100}}}"""));
        Assert.Equal(StatusCode.InvalidArgument, unknown.StatusCode);
        Assert.Contains($"version {_corrected + 100} does not exist", unknown.Status.Detail, StringComparison.Ordinal);

        var snapshot = await Assert.ThrowsAsync<RpcException>(() => CloseOnDayAsync("""{"snapshot":"never-made"}"""));
        Assert.Equal(StatusCode.InvalidArgument, snapshot.StatusCode);
        Assert.Contains("snapshot 'never-made' does not exist", snapshot.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Sdk_SnapshotPinsAVersion_ReadsItAfterAVacuumThatRefusesTheUnpinnedOnes()
    {
        using var client = _server.Client();
        var versions = await client.ListVersionsAsync(symbol: "AAPL").DefaultTimeout();
        Assert.Equal([_corrected, _ingested], versions.Select(v => v.Version));
        Assert.Equal(1, versions[0].Updated);
        Assert.Equal(["AAPL"], versions[0].Symbols);

        var snapshot = await client.CreateSnapshotAsync("model-v1", ["silver/prices_daily"], _ingested).DefaultTimeout();
        Assert.Equal(_ingested, snapshot.Tables["silver/prices_daily"]);
        Assert.Equal(["model-v1"], (await client.ListSnapshotsAsync().DefaultTimeout()).Select(s => s.Name));

        // A third version supersedes the corrected file too; then everything superseded and unpinned is vacuumed.
        var bar = TestBars.Bar("AAPL", Day);
        await _server.Server.Store.UpsertAsync([bar with { Close = _newClose + 1, High = Math.Max(bar.High, _newClose + 1) }]).DefaultTimeout();
        var latest = _server.Server.Store.LatestVersion;
        var vacuum = await client.VacuumAsync(retentionHours: 0).DefaultTimeout();
        Assert.True(vacuum.Files >= 1);
        Assert.True(vacuum.Pinned >= 1);

        var query = TableQuery.Create(symbols: ["AAPL"], dateFrom: "2026-11-12", dateTo: "2026-11-12");
        var pinned = await client.ReadBarsAsync(query.WithAsOf(ReadAsOf.AtSnapshot("model-v1"))).ToListAsync().DefaultTimeout();
        Assert.Equal(_oldClose, Assert.Single(pinned).Close);
        var gone = await Assert.ThrowsAsync<RpcException>(() => client.ReadBarsAsync(query.WithAsOf(ReadAsOf.AtVersion(_corrected))).ToListAsync());
        Assert.Equal(StatusCode.NotFound, gone.StatusCode);
        Assert.Contains($"the oldest version still readable is {_ingested}, and every version from {latest} on is", gone.Status.Detail,
            StringComparison.Ordinal);

        await client.DeleteSnapshotAsync("model-v1").DefaultTimeout();
        Assert.Empty(await client.ListSnapshotsAsync().DefaultTimeout());
    }

    [Fact]
    public async Task Http_AsOfParameters_VersionListingAndSnapshots()
    {
        using (var daily = await _http.GetAsync(new Uri($"/prices/daily?symbol=AAPL&date_from=2026-11-12&date_to=2026-11-12&version={_ingested}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, daily.StatusCode);
            using var doc = JsonDocument.Parse(await daily.Content.ReadAsStringAsync());
            Assert.Equal(_oldClose, doc.RootElement.EnumerateArray().Single().GetProperty("close").GetDouble());
        }
        using (var arrow = await _http.GetAsync(new Uri(
            $"/prices/arrow?symbols=AAPL&date_from=2026-11-12&date_to=2026-11-12&as_of={Uri.EscapeDataString(ReadAsOf.FormatInstant(_between))}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, arrow.StatusCode);
            using var reader = new ArrowStreamReader(await arrow.Content.ReadAsStreamAsync());
            var batch = await reader.ReadNextRecordBatchAsync();
            Assert.Equal(_oldClose, ((DoubleArray)batch.Column("close")).GetValue(0));
        }
        using (var bad = await _http.GetAsync(new Uri("/prices/daily?symbol=AAPL&version=1&snapshot=x", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, bad.StatusCode);
            Assert.Equal("application/problem+json", bad.Content.Headers.ContentType?.MediaType);
            Assert.Contains("version and snapshot", await bad.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var notNumber = await _http.GetAsync(new Uri("/prices/arrow?symbols=AAPL&version=latest", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.BadRequest, notNumber.StatusCode);
            Assert.Contains("version 'latest' is not a version number", await notNumber.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }

        using (var list = await _http.GetAsync(new Uri("/tables/silver/prices_daily/versions?symbol=MSFT", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, list.StatusCode);
            using var doc = JsonDocument.Parse(await list.Content.ReadAsStringAsync());
            var only = doc.RootElement.EnumerateArray().Single();
            Assert.Equal(_ingested, only.GetProperty("version").GetInt64());
            Assert.Equal("write", only.GetProperty("operation").GetString());
            Assert.Equal(TestBars.Generate(["MSFT", "AAPL"], new DateOnly(2026, 11, 2), new DateOnly(2026, 11, 27)).Count, only.GetProperty("inserted").GetInt64());
            Assert.True(only.GetProperty("readable").GetBoolean());
        }

        using (var created = await _http.PostAsync(new Uri($"/snapshots?name=eod-2026-11-12&version={_ingested}", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        }
        using (var bySnapshot = await _http.GetAsync(new Uri("/prices/daily?symbol=AAPL&date_from=2026-11-12&date_to=2026-11-12&snapshot=eod-2026-11-12", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, bySnapshot.StatusCode);
            using var doc = JsonDocument.Parse(await bySnapshot.Content.ReadAsStringAsync());
            Assert.Equal(_oldClose, doc.RootElement.EnumerateArray().Single().GetProperty("close").GetDouble());
        }
        using (var taken = await _http.PostAsync(new Uri("/snapshots?name=eod-2026-11-12", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.BadRequest, taken.StatusCode);
        }
        using (var deleted = await _http.DeleteAsync(new Uri("/snapshots/eod-2026-11-12", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.OK, deleted.StatusCode);
        }
        using (var again = await _http.DeleteAsync(new Uri("/snapshots/eod-2026-11-12", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, again.StatusCode);
        }

        // Vacuum with no retention: the ingest's superseded file goes, and its version is a 404 naming the oldest readable.
        using (var vacuum = await _http.PostAsync(new Uri("/vacuum?retention_hours=0", UriKind.Relative), null))
        {
            Assert.Equal(HttpStatusCode.OK, vacuum.StatusCode);
            using var doc = JsonDocument.Parse(await vacuum.Content.ReadAsStringAsync());
            Assert.True(doc.RootElement.GetProperty("files").GetInt32() >= 1);
        }
        using (var gone = await _http.GetAsync(new Uri($"/prices/daily?symbol=AAPL&version={_ingested}", UriKind.Relative)))
        {
            Assert.Equal(HttpStatusCode.NotFound, gone.StatusCode);
            Assert.Contains($"the oldest version still readable is {_corrected}", await gone.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Diff_DoGetTicketAndHttpArrow_StreamTheCorrectedRowWithOldAndNewClose()
    {
        using (var call = _server.Raw.GetStream(new FlightTicket($$"""{"symbols":["AAPL","MSFT"],"diff_from_version":{{_ingested}}}""")))
        {
            var batches = new List<RecordBatch>();
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
                batches.Add(call.ResponseStream.Current);
            }
            var diff = Assert.Single(batches);
            Assert.Equal(1, diff.Length);
            Assert.Equal("changed", ((StringArray)diff.Column("change")).GetString(0));
            Assert.Equal("AAPL", ((StringArray)diff.Column("symbol")).GetString(0));
            Assert.Equal(Day, ((Date32Array)diff.Column("date")).GetDateOnly(0));
            Assert.Equal(_oldClose, ((DoubleArray)diff.Column("old_close")).GetValue(0));
            Assert.Equal(_newClose, ((DoubleArray)diff.Column("new_close")).GetValue(0));
        }
        using var arrow = await _http.GetAsync(new Uri($"/prices/arrow?version={_corrected}&diff_from_version={_ingested}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.OK, arrow.StatusCode);
        using var reader = new ArrowStreamReader(await arrow.Content.ReadAsStreamAsync());
        var batch = await reader.ReadNextRecordBatchAsync();
        Assert.Equal(1, batch.Length);
        Assert.Equal(_oldClose, ((DoubleArray)batch.Column("old_close")).GetValue(0));
        Assert.Equal(_newClose, ((DoubleArray)batch.Column("new_close")).GetValue(0));
        Assert.Null(await reader.ReadNextRecordBatchAsync());

        using var projected = await _http.GetAsync(new Uri($"/prices/arrow?columns=close&diff_from_version={_ingested}", UriKind.Relative));
        Assert.Equal(HttpStatusCode.BadRequest, projected.StatusCode);
        Assert.Contains("diff_from_version: a diff has its own columns", await projected.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>The closes of 2026-11-12 a raw DoGet of <paramref name="ticket"/> returns.</summary>
    private async Task<List<double>> CloseOnDayAsync(string ticket)
    {
        var closes = new List<double>();
        using var call = _server.Raw.GetStream(new FlightTicket(ticket));
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            var b = call.ResponseStream.Current;
            var date = (Date32Array)b.Column("date");
            var close = (DoubleArray)b.Column("close");
            for (var i = 0; i < b.Length; i++)
            {
                if (date.GetDateOnly(i) == Day)
                {
                    closes.Add(close.GetValue(i)!.Value);
                }
            }
        }
        return closes;
    }
}
