using Apache.Arrow;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Protocol.Sql;
using Lakehouse.Flight.Server.Internal.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// The engine behind Flight SQL (decisions D40): one locked instance per lake version shared by that version's queries,
/// results through DuckDB's Arrow export, each run's own cancel, parameter types, and the engine's errors as statuses.
/// </summary>
public sealed class FlightSqlEngineTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2024, 1, 1);
    private static readonly DateOnly To = new(2024, 3, 31);
    private TestServer _server = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    private FlightSqlCalls Sql => new(_server.Raw);

    private SqlEngine Engine => _server.Server.Services.GetRequiredService<SqlEngine>();

    public async Task InitializeAsync()
    {
        _server = await SqlTestServer.StartAsync(o => o.Sql.TimeoutSeconds = 3600);
        _bars = await _server.UploadSyntheticAsync(["AAPL", "MSFT"], From, To);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private async Task UploadAsync(string symbol)
    {
        await _server.UploadSyntheticAsync([symbol], From, To);
    }

    private async Task<long> CountAsync(string sql = "SELECT count(*) AS n FROM silver.prices_daily") =>
        FlightSqlCalls.Column((await Sql.SqlAsync(sql)).Batches, "n", (a, i) => ((Int64Array)a).GetValue(i)).Single()!.Value;

    [Fact]
    public async Task Queries_AtOneVersion_ShareOneInstance_ANewVersionGetsItsOwn_TheOldClosesWithItsLastQuery()
    {
        await CountAsync();
        var opened = Engine.InstancesOpened;
        await CountAsync();
        await Sql.SqlAsync("SELECT symbol FROM silver.prices_daily GROUP BY symbol");
        Assert.Equal(opened, Engine.InstancesOpened);

        var pinned = await Engine.OpenAsync(CancellationToken.None).DefaultTimeout();
        await UploadAsync("NVDA");
        Assert.Equal(_bars.Count + SyntheticBars.Generate(["NVDA"], From, To).Count, await CountAsync());

        Assert.Equal(opened + 1, Engine.InstancesOpened);
        Assert.Equal(2, Engine.InstancesAlive);
        pinned.Dispose();
        Assert.Equal(1, Engine.InstancesAlive);
    }

    [Fact]
    public async Task Queries_InParallel_OnTheSharedInstance_EachGetsItsOwnRows()
    {
        var symbols = new[] { "AAPL", "MSFT", "AAPL", "MSFT", "AAPL", "MSFT" };

        var counts = await Task.WhenAll(symbols.Select(symbol => Task.Run(() =>
            CountAsync($"SELECT count(*) AS n FROM silver.prices_daily WHERE symbol = '{symbol}' AND close > 0"))));

        Assert.Equal(symbols.Select(s => (long)_bars.Count(b => b.Symbol == s)), counts);
        Assert.Equal(1, Engine.InstancesAlive);
    }

    public static TheoryData<string> Changes => new()
    {
        "CREATE OR REPLACE VIEW silver.prices_daily AS SELECT 1 AS n",
        "DROP VIEW silver.prices_daily",
        "DETACH lakehouse",
        "ATTACH ':memory:' AS other",
        "CREATE TABLE silver.copy AS SELECT * FROM silver.prices_daily",
        "CREATE TEMP TABLE copy AS SELECT 1 AS n",
        "CREATE MACRO prices_daily(a) AS a",
        "SET VARIABLE v = 1",
        "USE memory",
        "BEGIN TRANSACTION",
        "CHECKPOINT",
        "SELECT 1 AS n; DROP VIEW silver.prices_daily",
        "SELECT * FROM query('DROP VIEW silver.prices_daily')",
        "SET threads = 64",
        "RESET memory_limit",
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public async Task SharedInstance_StatementThatWouldChangeIt_Refused_OtherQueriesSeeTheSameLake(string statement)
    {
        await CountAsync();
        var opened = Engine.InstancesOpened;

        var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.SqlAsync(statement));

        Assert.True(ex.StatusCode is StatusCode.PermissionDenied or StatusCode.InvalidArgument, $"{ex.StatusCode}: {ex.Status.Detail}");
        Assert.Equal(_bars.Count, await CountAsync());
        Assert.Equal(opened, Engine.InstancesOpened);
        using var session = await Engine.OpenAsync(CancellationToken.None).DefaultTimeout();
        Assert.Equal("1", session.Setting("threads"));
    }

    [Fact]
    public async Task Limits_ThreadsAndMemory_AreTheInstances_AQueryBeyondTheMemoryIsResourceExhausted()
    {
        using (var session = await Engine.OpenAsync(CancellationToken.None).DefaultTimeout())
        {
            Assert.Equal("1", session.Setting("threads"));
            Assert.StartsWith("61", session.Setting("memory_limit"), StringComparison.Ordinal);
            Assert.Equal("true", session.Setting("lock_configuration"));
            Assert.Equal("false", session.Setting("enable_external_access"));
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.SqlAsync("SELECT x, count(*) AS n FROM range(20000000) t(x) GROUP BY x ORDER BY n DESC LIMIT 1"));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("Lakehouse:Sql:MemoryLimitMb", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(_bars.Count, await CountAsync());
    }

    [Fact]
    public async Task CancelFlightInfo_ReachesItsOwnRunOnly_AndACancelBeforeDoGetIsKept()
    {
        const string Query = "SELECT count(*) AS n FROM range(3000000) t(x) WHERE x % 7 = 0";
        var mine = await Sql.InfoAsync(new CommandStatementQuery { Query = Query });
        var theirs = await Sql.InfoAsync(new CommandStatementQuery { Query = Query });
        Assert.NotEqual(mine.Endpoints.Single().Ticket.Ticket, theirs.Endpoints.Single().Ticket.Ticket);

        // They cancel their FlightInfo before running it: the same SQL run by this caller is not touched...
        await Sql.ActionAsync("CancelFlightInfo", FlightSqlCancelTests.CancelRequest(theirs.Endpoints.Single().Ticket));
        var rows = new List<RecordBatch>();
        using (var call = _server.Raw.GetStream(mine.Endpoints.Single().Ticket))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                rows.Add(call.ResponseStream.Current);
            }
        }
        Assert.Equal([(3_000_000L + 6) / 7], FlightSqlCalls.Column(rows, "n", (a, i) => ((Int64Array)a).GetValue(i)));

        // ...and their DoGet, coming after their cancel, is cancelled at once.
        using var theirCall = _server.Raw.GetStream(theirs.Endpoints.Single().Ticket);
        var ex = await Assert.ThrowsAsync<RpcException>(() => theirCall.ResponseStream.MoveNext().DefaultTimeout());
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    [Fact]
    public async Task PreparedStatement_ParameterTypes_AsTheEngineInfersThem_CompatibleTypesBind()
    {
        var prepared = await Sql.PrepareAsync("SELECT count(*) AS n FROM silver.prices_daily WHERE symbol = ? AND volume >= ? AND date >= ? AND ? IS NOT NULL");
        var parameters = FlightSqlTests.ArrowSerializationHelpers(prepared.ParameterSchema.ToByteArray());
        Assert.Equal(["$1:String", "$2:Int64", "$3:Date32", "$4:Null"], parameters.FieldsList.Select(f => $"{f.Name}:{f.DataType.TypeId}"));

        // An int32 where int64 is declared, a timestamp where a date is: the engine casts them.
        var command = new CommandPreparedStatementQuery { PreparedStatementHandle = prepared.PreparedStatementHandle };
        await Sql.PutAsync(command, new RecordBatch.Builder()
            .Append("s", false, c => c.String(s => s.Append("MSFT")))
            .Append("v", false, c => c.Int32(v => v.Append(0)))
            .Append("d", false, c => c.Timestamp(t => t.Append(new DateTimeOffset(2024, 2, 1, 0, 0, 0, TimeSpan.Zero))))
            .Append("x", false, c => c.Int64(x => x.Append(1)))
            .Build());
        var n = FlightSqlCalls.Column((await Sql.QueryAsync(command)).Batches, "n", (a, i) => ((Int64Array)a).GetValue(i)).Single();

        Assert.Equal(_bars.Count(b => b.Symbol == "MSFT" && b.Date >= new DateOnly(2024, 2, 1)), n);
    }

    [Fact]
    public async Task PreparedStatement_UntypedParameter_BoundInt64_DescribedAndServedAsInt64()
    {
        var prepared = await Sql.PrepareAsync("SELECT ? AS v");
        var command = new CommandPreparedStatementQuery { PreparedStatementHandle = prepared.PreparedStatementHandle };
        await Sql.PutAsync(command, new RecordBatch.Builder().Append("v", false, c => c.Int64(x => x.Append(42))).Build());

        var (info, schema, batches) = await Sql.QueryAsync(command);

        Assert.Equal(ArrowTypeId.Int64, info.Schema.GetFieldByName("v").DataType.TypeId);
        Assert.Equal(ArrowTypeId.Int64, schema.GetFieldByName("v").DataType.TypeId);
        Assert.Equal([42L], FlightSqlCalls.Column(batches, "v", (a, i) => ((Int64Array)a).GetValue(i)));
    }

    [Fact]
    public async Task Statement_EngineTypes_ServedAsDocumented()
    {
        const string Query = """
            SELECT sum(volume) AS total, CAST(1.25 AS DECIMAL(10, 2)) AS dec, NULL AS nothing, TIME '12:34:56' AS t,
                   INTERVAL 3 DAY AS i, CAST('b' AS ENUM('a', 'b')) AS e, TIMESTAMP_NS '2024-01-02 03:04:05.123456789' AS ns,
                   TIMESTAMPTZ '2024-01-02 03:04:05+00' AS tz, uuid() IS NOT NULL AS has_uuid, CAST(7 AS TINYINT) AS tiny
            FROM silver.prices_daily
            """;

        var (info, schema, batches) = await Sql.SqlAsync(Query);

        var row = Assert.Single(batches);
        Assert.Equal(["total:Int64", "dec:Double", "nothing:Int32", "t:String", "i:String", "e:String", "ns:Timestamp", "tz:Timestamp", "has_uuid:Boolean", "tiny:Int8"],
            schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.TypeId}"));
        Assert.Equal(schema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)), info.Schema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)));
        Assert.Equal(_bars.Sum(b => b.Volume), ((Int64Array)row.Column("total")).GetValue(0));
        Assert.Equal(1.25, ((DoubleArray)row.Column("dec")).GetValue(0));
        Assert.True(row.Column("nothing").IsNull(0));
        Assert.Equal("12:34:56", ((StringArray)row.Column("t")).GetString(0));
        Assert.Equal("3 days", ((StringArray)row.Column("i")).GetString(0));
        Assert.Equal("b", ((StringArray)row.Column("e")).GetString(0));
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero).AddTicks(1234560), ((TimestampArray)row.Column("ns")).GetTimestamp(0));
        Assert.Equal("UTC", ((TimestampType)schema.GetFieldByName("tz").DataType).Timezone);
        Assert.Equal(new DateTimeOffset(2024, 1, 2, 3, 4, 5, TimeSpan.Zero), ((TimestampArray)row.Column("tz")).GetTimestamp(0));
        Assert.Equal((sbyte)7, ((Int8Array)row.Column("tiny")).GetValue(0));
    }

    [Fact]
    public async Task Statement_AFileOfTheVersionUnreadable_UnavailableNamingNoServerPath()
    {
        await CountAsync();
        var file = _server.Server.Store.CurrentFiles().Tables.Single(t => t.Table.Id == "silver/prices_daily").Paths[0];
        File.Move(file, file + ".away");
        try
        {
            var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.SqlAsync("SELECT count(*) AS n FROM silver.prices_daily"));

            Assert.True(ex.StatusCode == StatusCode.Unavailable, $"{ex.StatusCode}: {ex.Status.Detail}");
            Assert.Contains("run the query again", ex.Status.Detail, StringComparison.Ordinal);
            Assert.DoesNotContain(_server.DataDir, ex.Status.Detail, StringComparison.Ordinal);
        }
        finally
        {
            File.Move(file + ".away", file);
        }
    }

    [Fact]
    public async Task EngineIoError_IsUnavailable_WithNoPath()
    {
        using var session = await Engine.OpenAsync(CancellationToken.None).DefaultTimeout();

        var error = session.Translate($"IO Error: Could not read from file \"{_server.DataDir}/silver/a.parquet\": Input/output error; see /var/log/x");

        var lake = Assert.IsType<Core.LakehouseException>(error);
        Assert.Equal(Core.LakehouseErrorKind.Unavailable, lake.Kind);
        Assert.DoesNotContain(_server.DataDir, lake.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("/var/log", lake.Message, StringComparison.Ordinal);
        Assert.StartsWith("IO Error: Could not read from file \"<path>\": Input/output error; see <path>", lake.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task EngineInternalError_IsInternal_WithNoPath()
    {
        using var session = await Engine.OpenAsync(CancellationToken.None).DefaultTimeout();

        var error = session.Translate($"INTERNAL Error: assertion failed in /usr/src/duckdb/src/x.cpp reading {_server.DataDir}/silver/a.parquet");

        var rpc = Assert.IsType<RpcException>(error);
        Assert.Equal(StatusCode.Internal, rpc.StatusCode);
        Assert.DoesNotContain("/usr/src", rpc.Status.Detail, StringComparison.Ordinal);
        Assert.DoesNotContain(_server.DataDir, rpc.Status.Detail, StringComparison.Ordinal);
        Assert.StartsWith("INTERNAL Error: assertion failed in <path>", rpc.Status.Detail, StringComparison.Ordinal);
    }
}
