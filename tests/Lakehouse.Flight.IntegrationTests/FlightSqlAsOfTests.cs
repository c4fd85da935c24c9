using System.Net;
using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// SQL as of a version, an instant or a snapshot (docs/decisions.md D44): the <c>-- lakehouse:</c> hint over Flight SQL,
/// the body fields of <c>POST /sql</c>; the rows equal a DoGet's as of the same moment; as-of instances are reused; bad
/// hints, a table a snapshot does not pin and a vacuumed version answer as a DoGet would.
/// </summary>
public sealed class FlightSqlAsOfTests : IAsyncLifetime
{
    private static readonly DateOnly Day = CorrectedLake.Day;
    private const string CloseOnDay = "SELECT close FROM silver.prices_daily WHERE symbol = 'AAPL' AND date = DATE '2026-11-12'";

    private TestServer _server = null!;
    private HttpClient _http = null!;
    private long _ingested;
    private long _corrected;
    private DateTimeOffset _between;
    private double _oldClose;
    private double _newClose;

    private FlightSqlCalls Sql => new(_server.Raw);

    private SqlEngine Engine => _server.Server.Services.GetRequiredService<SqlEngine>();

    public async Task InitializeAsync()
    {
        _server = await SqlTestServer.StartAsync();
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
    public async Task Hint_VersionInstantOrSnapshot_ReadsThatMomentsRows_TheSameAsDoGetAsOf()
    {
        Assert.True(_corrected > _ingested);
        Assert.Equal(_newClose, await CloseAsync(CloseOnDay));
        Assert.Equal(_oldClose, await CloseAsync($"-- lakehouse: version={_ingested}\n{CloseOnDay}"));
        Assert.Equal(_oldClose, await CloseAsync($"/* lakehouse: as_of={ReadAsOf.FormatInstant(_between)} */ {CloseOnDay}"));
        Assert.Equal(_oldClose, await CloseAsync($"-- a comment first\n-- LAKEHOUSE: version = {_ingested}\r{CloseOnDay}"));
        await _server.Server.Store.CreateSnapshotAsync("model-v1", version: _ingested).DefaultTimeout();
        Assert.Equal(_oldClose, await CloseAsync($"-- lakehouse: snapshot=model-v1\n{CloseOnDay}"));

        // Every row of the old version, as SQL and as a DoGet ticket as of it see them.
        var sql = await Sql.SqlAsync($"-- lakehouse: version={_ingested}\nSELECT symbol, date, close FROM silver.prices_daily ORDER BY symbol, date");
        var bySql = Rows(sql.Batches);
        var byDoGet = new List<(string, DateOnly, double)>();
        using (var call = _server.Raw.GetStream(new FlightTicket($$"""{"symbols":["AAPL","MSFT"],"version":{{_ingested}}}""")))
        {
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
                byDoGet.AddRange(Rows([call.ResponseStream.Current]));
            }
        }
        Assert.Equal(CorrectedLake.Bars.Count, bySql.Count);
        Assert.Equal(byDoGet.OrderBy(r => r.Item1, StringComparer.Ordinal).ThenBy(r => r.Item2), bySql);
        Assert.Contains(("AAPL", Day, _oldClose), bySql);
    }

    [Fact]
    public async Task Hint_OnASelectionATicketExpresses_IsReadByTheLake_AsTheEngineReadsIt()
    {
        var sql = $"-- lakehouse: version={_ingested}\nSELECT symbol, date, close FROM silver.prices_daily WHERE symbol IN ('AAPL', 'MSFT') ORDER BY symbol, date";
        var served = Engine.FastServed;
        var opened = Engine.InstancesOpened;

        var fast = await Sql.SqlAsync(sql);

        Assert.Equal(served + 1, Engine.FastServed);
        Assert.Equal(opened, Engine.InstancesOpened);
        Engine.Options.FastPath = false;
        (FlightInfo Info, Schema Schema, List<RecordBatch> Batches) engine;
        try
        {
            engine = await Sql.SqlAsync(sql);
        }
        finally
        {
            Engine.Options.FastPath = true;
        }
        Assert.Equal(engine.Info.Schema.FieldsList.Select(f => (f.Name, f.DataType.TypeId, f.IsNullable)), fast.Info.Schema.FieldsList.Select(f => (f.Name, f.DataType.TypeId, f.IsNullable)));
        Assert.Equal(CorrectedLake.Bars.Count, Rows(fast.Batches).Count);
        Assert.Equal(Rows(engine.Batches), Rows(fast.Batches));
        Assert.Contains(("AAPL", Day, _oldClose), Rows(fast.Batches));
    }

    [Fact]
    public async Task Hint_OnASelection_PastTheRowCap_IsResourceExhausted_AndABadMomentFailsAtGetFlightInfo()
    {
        var cap = Engine.Options.MaxResultRows;
        Engine.Options.MaxResultRows = 10;
        try
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.SqlAsync($"-- lakehouse: version={_ingested}\nSELECT * FROM silver.prices_daily"));
            Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        }
        finally
        {
            Engine.Options.MaxResultRows = cap;
        }
        var bad = await Assert.ThrowsAsync<RpcException>(() => Sql.InfoAsync(new Lakehouse.Flight.Protocol.Sql.CommandStatementQuery { Query = $"-- lakehouse: version={_corrected + 7}\n{CloseOnDay}" }));
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains($"version {_corrected + 7} does not exist", bad.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Hint_TheSameMomentAgain_ReusesItsInstance_TheCurrentVersionUsesTheCurrentOne()
    {
        // An aggregate, so the engine (not the fast path, D47) answers it and opens the current version's instance.
        await Sql.SqlAsync("SELECT count(*) FROM silver.prices_daily");
        var opened = Engine.InstancesOpened;

        await CloseAsync($"-- lakehouse: version={_corrected}\n{CloseOnDay}");
        Assert.Equal(opened, Engine.InstancesOpened);

        await CloseAsync($"-- lakehouse: version={_ingested}\n{CloseOnDay}");
        await CloseAsync($"-- lakehouse: version={_ingested}\nSELECT count(*) FROM silver.prices_daily");
        Assert.Equal(opened + 1, Engine.InstancesOpened);
        Assert.Equal(2, Engine.InstancesAlive);
    }

    [Fact]
    public async Task Hint_Bad_IsInvalidArgumentNamingWhatToFix()
    {
        await AssertRefusedAsync($"-- lakehouse: version={_corrected + 100}\n{CloseOnDay}", StatusCode.InvalidArgument, $"version {_corrected + 100} does not exist");
        await AssertRefusedAsync($"-- lakehouse: as_of=2999-01-01T00:00:00Z\n{CloseOnDay}", StatusCode.InvalidArgument, "as_of 2999-01-01");
        await AssertRefusedAsync($"-- lakehouse: as_of=2026-11-30 22:00\n{CloseOnDay}", StatusCode.InvalidArgument, "is not one setting");
        await AssertRefusedAsync($"-- lakehouse: as_of=yesterday\n{CloseOnDay}", StatusCode.InvalidArgument, "as_of 'yesterday' is not an ISO-8601 instant");
        await AssertRefusedAsync($"-- lakehouse: snapshot=never-made\n{CloseOnDay}", StatusCode.InvalidArgument, "snapshot 'never-made' does not exist");
        await AssertRefusedAsync($"-- lakehouse: version=latest\n{CloseOnDay}", StatusCode.InvalidArgument, "version 'latest' in the lakehouse: hint is not a version number");
        await AssertRefusedAsync($"-- lakehouse: branch=main\n{CloseOnDay}", StatusCode.InvalidArgument, "it takes as_of");
        await AssertRefusedAsync($"-- lakehouse: version=1\n/* lakehouse: version=2 */ {CloseOnDay}", StatusCode.InvalidArgument, "two lakehouse: hints");
        await AssertRefusedAsync($"-- lakehouse: snapshot=''\n-- lakehouse: version=1\n{CloseOnDay}", StatusCode.InvalidArgument, "gives snapshot no value");
    }

    [Fact]
    public async Task Snapshot_OfSilverOnly_ReadsSilver_AndRefusesATableItDoesNotPin_OnlyWhenTheQueryReadsIt()
    {
        await _server.Server.Store.CreateSnapshotAsync("silver-only", [_server.Server.Store.Catalog.Get(Layer.Silver, "prices_daily")], _ingested).DefaultTimeout();

        Assert.Equal(_oldClose, await CloseAsync($"-- lakehouse: snapshot=silver-only\n{CloseOnDay}"));
        await AssertRefusedAsync("-- lakehouse: snapshot=silver-only\nSELECT count(*) FROM bronze.prices_daily", StatusCode.InvalidArgument,
            "snapshot 'silver-only' does not pin bronze/prices_daily");
    }

    [Fact]
    public async Task Hint_AtAVacuumedVersion_IsNotFoundNamingTheOldestReadable_ThoughItsInstanceWasOpenBefore()
    {
        Assert.Equal(_oldClose, await CloseAsync($"-- lakehouse: version={_ingested}\n{CloseOnDay}"));
        using (var client = _server.Client())
        {
            var vacuum = await client.VacuumAsync(retentionHours: 0).DefaultTimeout();
            Assert.True(vacuum.Files >= 1);
        }

        await AssertRefusedAsync($"-- lakehouse: version={_ingested}\n{CloseOnDay}", StatusCode.NotFound, $"the oldest version still readable is {_corrected}");
        await AssertRefusedAsync($"-- lakehouse: version={_ingested}\nSELECT count(*) FROM silver.prices_daily", StatusCode.NotFound, "is no longer readable");
        await AssertRefusedAsync($"-- lakehouse: version={_ingested}\nSELECT symbol FROM silver.prices_daily WHERE date > DATE '2030-01-01'", StatusCode.NotFound,
            "is no longer readable");
        Assert.Equal(_newClose, await CloseAsync(CloseOnDay));
    }

    [Fact]
    public async Task PostSql_BodyVersionOrHint_ReadsThatVersion_BothGivenIs400()
    {
        using (var byField = await PostAsync(JsonSerializer.Serialize(new { query = CloseOnDay, version = _ingested })))
        {
            Assert.Equal(HttpStatusCode.OK, byField.StatusCode);
            Assert.Equal(_ingested.ToString(System.Globalization.CultureInfo.InvariantCulture), byField.Headers.GetValues("X-Lakehouse-Version").Single());
            using var doc = JsonDocument.Parse(await byField.Content.ReadAsStringAsync());
            Assert.Equal(_oldClose, doc.RootElement.EnumerateArray().Single().GetProperty("close").GetDouble());
        }
        using (var byInstant = await PostAsync(JsonSerializer.Serialize(new { query = CloseOnDay, as_of = ReadAsOf.FormatInstant(_between) })))
        {
            Assert.Equal(HttpStatusCode.OK, byInstant.StatusCode);
            using var doc = JsonDocument.Parse(await byInstant.Content.ReadAsStringAsync());
            Assert.Equal(_oldClose, doc.RootElement.EnumerateArray().Single().GetProperty("close").GetDouble());
        }
        using (var both = await PostAsync(JsonSerializer.Serialize(new { query = $"-- lakehouse: version={_ingested}\n{CloseOnDay}", version = _corrected })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, both.StatusCode);
            Assert.Equal("application/problem+json", both.Content.Headers.ContentType?.MediaType);
            Assert.Contains("are both given", await both.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using (var empty = await PostAsync(JsonSerializer.Serialize(new { query = CloseOnDay, as_of = " " })))
        {
            Assert.Equal(HttpStatusCode.BadRequest, empty.StatusCode);
            Assert.Contains("is empty: give a value or leave the field out", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        }
        using var twoFields = await PostAsync(JsonSerializer.Serialize(new { query = CloseOnDay, version = _ingested, snapshot = "x" }));
        Assert.Equal(HttpStatusCode.BadRequest, twoFields.StatusCode);
        Assert.Contains("version and snapshot are both given", await twoFields.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    private async Task<HttpResponseMessage> PostAsync(string body)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sql") { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Accept.ParseAdd("application/json");
        return await _http.SendAsync(request).DefaultTimeout();
    }

    private async Task<double> CloseAsync(string sql)
    {
        var (_, _, batches) = await Sql.SqlAsync(sql);
        return FlightSqlCalls.Column(batches, batches[0].Schema.FieldsList[0].Name, (a, i) => a is DoubleArray d ? d.GetValue(i) : ((Int64Array)a).GetValue(i)).Single()!.Value;
    }

    private async Task AssertRefusedAsync(string sql, StatusCode status, string message)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.SqlAsync(sql));
        Assert.Equal(status, ex.StatusCode);
        Assert.Contains(message, ex.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(SqlEngine.RefusalMarker, ex.Status.Detail, StringComparison.Ordinal);
    }

    private static List<(string, DateOnly, double)> Rows(IEnumerable<RecordBatch> batches) =>
        [.. batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => (
            ((StringArray)b.Column("symbol")).GetString(i),
            ((Date32Array)b.Column("date")).GetDateOnly(i)!.Value,
            ((DoubleArray)b.Column("close")).GetValue(i)!.Value)))];
}
