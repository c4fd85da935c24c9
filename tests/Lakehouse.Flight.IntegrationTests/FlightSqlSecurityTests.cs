using Apache.Arrow;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Protocol.Sql;
using Lakehouse.Flight.Server.Internal.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>What SQL may not do: read or write other files, load code, change the engine's limits; and the limits themselves.</summary>
public sealed class FlightSqlSecurityTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2024, 1, 1);
    private static readonly DateOnly To = new(2024, 2, 29);
    private TestServer _server = null!;
    private readonly string _outside = Path.Combine(Path.GetTempPath(), "lakehouse-sql-escape-" + Guid.NewGuid().ToString("N"));

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o =>
        {
            TestServer.WithAuth(o);
            o.Sql.MaxResultRows = 50;
            o.Sql.TimeoutSeconds = 2;
        });
        using var client = _server.Client(TestServer.WriterToken);
        await client.UploadAsync(SyntheticBars.Generate(["AAPL", "MSFT"], From, To), "vendor_x", promote: true).DefaultTimeout();
        Directory.CreateDirectory(_outside);
        await File.WriteAllTextAsync(Path.Combine(_outside, "secret.csv"), "a,b\n1,2\n");
    }

    public async Task DisposeAsync()
    {
        await _server.DisposeAsync();
        Directory.Delete(_outside, recursive: true);
    }

    private FlightSqlCalls Reader => new(_server.Raw, TestServer.Bearer(TestServer.ReaderToken));

    public static TheoryData<string> Escapes => new()
    {
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_csv('{outside}/secret.csv')",
        "SELECT * FROM read_text('{outside}/secret.csv')",
        "SELECT * FROM '{outside}/secret.csv'",
        "SELECT * FROM glob('{outside}/*')",
        "SELECT * FROM read_parquet('{lake}/silver/prices_daily/*.parquet')",
        "COPY (SELECT 1 AS x) TO '{outside}/written.csv'",
        "ATTACH '{outside}/other.duckdb' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET enable_external_access = true",
        "SET threads = 64",
        "SET memory_limit = '100GB'",
        "RESET lock_configuration",
        // The engine's catalogue and settings name the data files' paths.
        "SELECT sql FROM duckdb_views()",
        "SELECT sql FROM \"duckdb_views\"()",
        "SELECT * FROM duckdb_settings()",
        "SELECT current_setting('allowed_paths') AS p",
        "SELECT view_definition FROM information_schema.views",
        "EXPLAIN SELECT * FROM silver.prices_daily",
        "PRAGMA database_list",
    };

    [Theory]
    [MemberData(nameof(Escapes))]
    public async Task Statement_Escape_RefusedWithoutServerPaths(string template)
    {
        var query = template.Replace("{outside}", _outside, StringComparison.Ordinal).Replace("{lake}", _server.DataDir, StringComparison.Ordinal);

        var ex = await Assert.ThrowsAsync<RpcException>(() => Reader.SqlAsync(query));

        Assert.True(ex.StatusCode is StatusCode.PermissionDenied or StatusCode.InvalidArgument, $"{ex.StatusCode}: {ex.Status.Detail}");
        Assert.DoesNotContain(_server.DataDir, ex.Status.Detail, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_outside, "written.csv")));
        Assert.False(File.Exists(Path.Combine(_outside, "other.duckdb")));
    }

    [Fact]
    public async Task Statement_ReaderRole_Queries_NoTokenIsUnauthenticated()
    {
        var (_, _, batches) = await Reader.SqlAsync("SELECT count(*) AS n FROM silver.prices_daily WHERE symbol = 'AAPL'");
        var anonymous = await Assert.ThrowsAsync<RpcException>(() => new FlightSqlCalls(_server.Raw).SqlAsync("SELECT 1"));

        Assert.Equal(SyntheticBars.Generate(["AAPL"], From, To).Count, ((Int64Array)batches.Single().Column(0)).GetValue(0));
        Assert.Equal(StatusCode.Unauthenticated, anonymous.StatusCode);
    }

    [Fact]
    public async Task Statement_MoreRowsThanTheLimit_ResourceExhaustedNamingTheSetting()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Reader.SqlAsync("SELECT * FROM silver.prices_daily"));

        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("Lakehouse:Sql:MaxResultRows", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Statement_LongerThanTheTimeout_DeadlineExceededNamingTheSetting()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Reader.SqlAsync("SELECT count(*) AS n FROM range(1000000000000) a"));

        Assert.Equal(StatusCode.DeadlineExceeded, ex.StatusCode);
        Assert.Contains("Lakehouse:Sql:TimeoutSeconds", ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Session_PinnedBeforeACommit_SeesItsVersionOnly()
    {
        var engine = _server.Server.Services.GetRequiredService<SqlEngine>();
        using var pinned = await engine.OpenAsync(CancellationToken.None).DefaultTimeout();
        using (var client = _server.Client(TestServer.WriterToken))
        {
            await client.UploadAsync(SyntheticBars.Generate(["NVDA"], From, To), "vendor_x", promote: true).DefaultTimeout();
        }
        using var current = await engine.OpenAsync(CancellationToken.None).DefaultTimeout();

        Assert.True(current.Version > pinned.Version);
        Assert.Equal([2L], await CountSymbols(pinned));
        Assert.Equal([3L], await CountSymbols(current));
    }

    private static async Task<List<long>> CountSymbols(SqlSession session)
    {
        var sink = new CollectingSink();
        await session.ExecuteAsync("SELECT count(DISTINCT symbol) FROM silver.prices_daily", [], sink, 1024, CancellationToken.None).DefaultTimeout();
        return sink.Batches.SelectMany(b => ((Int64Array)b.Column(0)).Values.ToArray()).ToList();
    }

    private sealed class CollectingSink : Server.Internal.IDoGetSink
    {
        public List<RecordBatch> Batches { get; } = [];

        public ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            Batches.Add(batch);
            return ValueTask.FromResult(true);
        }
    }
}

/// <summary>CancelFlightInfo and the older CancelQuery action stop a running query (no timeout in play).</summary>
public sealed class FlightSqlCancelTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o.Sql.TimeoutSeconds = 3600);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Theory]
    [InlineData("CancelFlightInfo")]
    [InlineData("CancelQuery")]
    public async Task LongQuery_Cancelled_StreamEndsCancelled(string action)
    {
        var sql = new FlightSqlCalls(_server.Raw);
        var info = await sql.InfoAsync(new CommandStatementQuery { Query = "SELECT count(*) AS n FROM range(100000000000000) a, range(10) b" });
        using var call = _server.Raw.GetStream(info.Endpoints.Single().Ticket);
        var read = call.ResponseStream.MoveNext();

        var flightInfo = FlightInfoBytes(info.Endpoints.Single().Ticket);
        var body = action == "CancelFlightInfo"
            ? Field(1, flightInfo)
            : Google.Protobuf.WellKnownTypes.Any.Pack(new ActionCancelQueryRequest { Info = flightInfo }).ToByteString();
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (!read.IsCompleted && !deadline.IsCancellationRequested)
        {
            // The DoGet registers once it reaches the engine: cancel until it has.
            await sql.ActionAsync(action, body);
            await Task.WhenAny(read, Task.Delay(50, CancellationToken.None));
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => read.DefaultTimeout());
        Assert.Equal(StatusCode.Cancelled, ex.StatusCode);
    }

    /// <summary>A CancelFlightInfoRequest body (field 1: the FlightInfo) for a FlightInfo whose one endpoint holds <paramref name="ticket"/>.</summary>
    internal static ByteString CancelRequest(FlightTicket ticket) => Field(1, FlightInfoBytes(ticket));

    /// <summary>A FlightInfo on the wire with one endpoint (field 3) whose Ticket (field 1) holds <paramref name="ticket"/> (field 1).</summary>
    private static ByteString FlightInfoBytes(FlightTicket ticket) => Field(3, Field(1, Field(1, ticket.Ticket)));

    private static ByteString Field(int number, ByteString value)
    {
        using var stream = new MemoryStream();
        var output = new CodedOutputStream(stream);
        output.WriteTag(number, WireFormat.WireType.LengthDelimited);
        output.WriteBytes(value);
        output.Flush();
        return ByteString.CopyFrom(stream.ToArray());
    }
}
