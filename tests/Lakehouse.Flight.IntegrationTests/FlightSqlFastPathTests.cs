using System.Globalization;
using System.Net;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Protocol.Sql;
using Lakehouse.Flight.Server.Internal.Sql;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// The SQL fast path (docs/decisions.md D47): selections a DoGet ticket expresses are read by the lake's read path, and
/// answer exactly what the engine answers (schema and rows); every other shape goes to the engine; a read during
/// commits sees one version.
/// </summary>
public sealed class FlightSqlFastPathTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2023, 11, 1);
    private static readonly DateOnly To = new(2024, 3, 31);
    private TestServer _server = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    private FlightSqlCalls Sql => new(_server.Raw);

    private SqlEngine Engine => _server.Server.Services.GetRequiredService<SqlEngine>();

    public async Task InitializeAsync()
    {
        _server = await SqlTestServer.StartAsync();
        _bars = await _server.UploadSyntheticAsync(["AAPL", "MSFT", "^GSPC"], From, To);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    /// <summary>Statements the fast path reads; "sorted" where the statement leaves the order to the engine.</summary>
    public static TheoryData<string, bool, int> FastStatements => new()
    {
        { "SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' AND date BETWEEN DATE '2024-01-01' AND DATE '2024-01-31'", true, 15 },
        { "SELECT date, close, symbol FROM silver.prices_daily WHERE symbol IN ('AAPL', '^GSPC', 'AAPL') AND date >= '2024-02-01' AND date < '2024-03-01' ORDER BY symbol, date", false, 30 },
        { "SELECT * FROM lakehouse.silver.prices_daily", true, 300 },
        { "select symbol, volume from \"silver\".\"prices_daily\" where date > DATE '2024-03-15' order by symbol, date;", false, 30 },
        { "SELECT * FROM gold.daily_metrics WHERE symbol = 'AAPL' ORDER BY date LIMIT 7", false, 7 },
        { "SELECT * FROM SILVER.PRICES_DAILY WHERE SYMBOL = 'AAPL' AND DATE = '2024-01-02'", true, 1 },
        { "SELECT * FROM bronze.prices_daily WHERE symbol = '^GSPC' AND date <= '2023-11-10'", true, 5 },
        { "SELECT * FROM gold.prices_monthly WHERE symbol = 'MSFT' AND month >= '2024-01-01' ORDER BY month", false, 3 },
        { "-- a leading comment\nSELECT close FROM silver.prices_daily WHERE symbol = 'NOPE'", true, 0 },
        { "SELECT * FROM silver.corporate_actions", true, 0 },
        { "/* first */ SELECT symbol, date FROM silver.prices_daily WHERE date = '2024-03-28' ORDER BY symbol LIMIT 2", false, 2 },
    };

    [Theory]
    [MemberData(nameof(FastStatements))]
    public async Task FastShapes_AreReadByTheLake_AndAnswerExactlyWhatTheEngineAnswers(string sql, bool unordered, int minRows)
    {
        var served = Engine.FastServed;
        var fast = await Sql.SqlAsync(sql);
        Assert.Equal(served + 1, Engine.FastServed);

        var engine = await WithoutFastPathAsync(() => Sql.SqlAsync(sql));

        Assert.Equal(Describe(engine.Info.Schema), Describe(fast.Info.Schema));
        Assert.Equal(Describe(engine.Schema), Describe(fast.Schema));
        var expected = Rows(engine.Batches);
        var actual = Rows(fast.Batches);
        Assert.True(actual.Count >= minRows, $"{actual.Count} rows");
        if (minRows == 0)
        {
            Assert.Empty(actual);
        }
        if (unordered)
        {
            expected.Sort(StringComparer.Ordinal);
            actual.Sort(StringComparer.Ordinal);
        }
        Assert.Equal(expected, actual);
    }

    [Fact]
    public async Task FastShapes_CountTheRowsTheBarsHold()
    {
        var (_, _, batches) = await Sql.SqlAsync("SELECT date, close FROM silver.prices_daily WHERE symbol = 'MSFT' AND date BETWEEN '2024-01-01' AND '2024-01-31' ORDER BY date");

        var expected = _bars.Where(b => b.Symbol == "MSFT" && b.Date.Year == 2024 && b.Date.Month == 1).OrderBy(b => b.Date).ToList();
        Assert.True(expected.Count > 15);
        Assert.Equal(expected.Select(b => b.Date), FlightSqlCalls.Column(batches, "date", (a, i) => ((Date32Array)a).GetDateOnly(i)).Select(d => d!.Value));
        Assert.Equal(expected.Select(b => (double?)b.Close), FlightSqlCalls.Column(batches, "close", (a, i) => ((DoubleArray)a).GetValue(i)));
    }

    /// <summary>Shapes that look close but are the engine's: what the engine answers differs from what a ticket would read, or is not sure to match.</summary>
    [Theory]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'msft'", 0)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = ' MSFT'", 0)]
    [InlineData("SELECT CLOSE FROM silver.prices_daily WHERE symbol = 'MSFT' AND date = '2024-01-02'", 1)]
    [InlineData("SELECT close AS c FROM silver.prices_daily WHERE symbol = 'MSFT' AND date = '2024-01-02'", 1)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' OR symbol = 'AAPL'", -1)]
    [InlineData("SELECT * FROM silver.prices_daily p WHERE p.symbol = 'MSFT' AND date = '2024-01-02'", 1)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' LIMIT 0", 0)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE date BETWEEN '2024-02-01' AND '2024-01-01'", 0)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' AND symbol = 'AAPL'", 0)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' ORDER BY date DESC LIMIT 3", 3)]
    [InlineData("SELECT * FROM silver.prices_daily ORDER BY date LIMIT 3", 3)]
    [InlineData("SELECT * FROM bronze.prices_daily WHERE symbol = 'MSFT' ORDER BY symbol, date LIMIT 3", 3)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' AND date = '2024-1-2'", 1)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' AND date = '2024-01-02' /* late */", 1)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' AND date = '2024-01-02'::DATE", 1)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE (symbol = 'MSFT') AND date = '2024-01-02'", 1)]
    [InlineData("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' AND close > 0 AND date = '2024-01-02'", 1)]
    public async Task OtherShapes_GoToTheEngine(string sql, int rows)
    {
        Assert.Null(SqlFastPath.TryPlan(sql, [], _server.Server.Store.Catalog));
        var served = Engine.FastServed;

        var (_, _, batches) = await Sql.SqlAsync(sql);

        Assert.Equal(served, Engine.FastServed);
        if (rows >= 0)
        {
            Assert.Equal(rows, batches.Sum(b => b.Length));
        }
        else
        {
            Assert.Equal(_bars.Count(b => b.Symbol is "MSFT" or "AAPL"), batches.Sum(b => b.Length));
        }
    }

    [Fact]
    public async Task Describe_EveryTable_IsWhatTheEngineDescribes()
    {
        foreach (var table in _server.Server.Store.Catalog.Tables)
        {
            var sql = $"SELECT * FROM {Layers.Name(table.Layer)}.{table.Name} WHERE symbol = 'AAPL'";
            Assert.NotNull(SqlFastPath.TryPlan(sql, [], _server.Server.Store.Catalog));
            var fast = await Sql.SchemaAsync(new CommandStatementQuery { Query = sql });
            var engine = await WithoutFastPathAsync(() => Sql.SchemaAsync(new CommandStatementQuery { Query = sql }));
            Assert.Equal(Describe(engine), Describe(fast));
        }
    }

    [Fact]
    public async Task PreparedStatement_WithSymbolAndDateParameters_IsReadByTheLake_AsTheEngineWouldBind()
    {
        const string Query = "SELECT * FROM silver.prices_daily WHERE symbol = ? AND date BETWEEN ? AND ?";
        var prepared = await Sql.PrepareAsync(Query);
        var command = new CommandPreparedStatementQuery { PreparedStatementHandle = prepared.PreparedStatementHandle };
        var bind = new RecordBatch.Builder()
            .Append("symbol", false, c => c.String(s => s.Append("AAPL")))
            .Append("from", false, c => c.Date32(d => d.Append(new DateOnly(2024, 1, 1))))
            .Append("to", false, c => c.String(s => s.Append("2024-01-31")))
            .Build();
        await Sql.PutAsync(command, bind);

        var served = Engine.FastServed;
        var fast = await Sql.QueryAsync(command);
        Assert.Equal(served + 1, Engine.FastServed);
        var engine = await WithoutFastPathAsync(() => Sql.QueryAsync(command));

        Assert.Equal(_bars.Count(b => b.Symbol == "AAPL" && b.Date.Year == 2024 && b.Date.Month == 1), fast.Batches.Sum(b => b.Length));
        Assert.Equal(Describe(engine.Info.Schema), Describe(fast.Info.Schema));
        Assert.Equal(Rows(engine.Batches), Rows(fast.Batches));
    }

    [Fact]
    public void Plan_ReadsTheTicketTheStatementMeans()
    {
        var catalog = _server.Server.Store.Catalog;

        var plan = SqlFastPath.TryPlan(
            "SELECT date, close FROM silver.prices_daily WHERE symbol IN ('MSFT', 'AAPL') AND date > '2024-01-01' AND date < '2024-02-01' AND date >= '2023-12-01' LIMIT 10",
            [], catalog)!;
        Assert.Equal(["AAPL", "MSFT"], plan.Query.Symbols);
        Assert.Equal(new DateOnly(2024, 1, 2), plan.Query.DateFrom);
        Assert.Equal(new DateOnly(2024, 1, 31), plan.Query.DateTo);
        Assert.Equal(["date", "close"], plan.Query.Columns);
        Assert.Equal(10, plan.Query.Limit);
        Assert.Equal(["date", "close"], plan.Schema.FieldsList.Select(f => f.Name));

        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.prices_daily WHERE symbol = ?", [], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.prices_daily WHERE symbol = ?", ["AAPL", "MSFT"], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.prices_daily WHERE date = ?", [new DateTime(2024, 1, 2)], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.prices_daily; SELECT 1", [], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.nope", [], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT nope FROM silver.prices_daily", [], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.prices_daily WHERE symbol = 'A' AND date = DATE ?", ["2024-01-02"], catalog));
        // What the engine refuses or reads otherwise: nested block comments, a vertical tab, the guard's words even in a literal.
        Assert.Null(SqlFastPath.TryPlan("/* a /* b */ SELECT * FROM silver.prices_daily", [], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT\v* FROM silver.prices_daily", [], catalog));
        Assert.Null(SqlFastPath.TryPlan("SELECT * FROM silver.prices_daily WHERE symbol = 'GETENV'", [], catalog));
        Assert.NotNull(SqlFastPath.TryPlan("SELECT\f*\tFROM silver.prices_daily WHERE symbol = 'GETX'", [], catalog));
    }

    [Fact]
    public async Task FastPathOff_EveryStatementGoesToTheEngine()
    {
        var served = Engine.FastServed;

        await WithoutFastPathAsync(() => Sql.SqlAsync("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT'"));

        Assert.Equal(served, Engine.FastServed);
    }

    [Fact]
    public async Task HttpSql_FastShape_AnswersTheVersionItRead()
    {
        using var http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
        var served = Engine.FastServed;
        using var request = new HttpRequestMessage(HttpMethod.Post, "/sql")
        {
            Content = new StringContent("""{"query": "SELECT symbol, date, close FROM silver.prices_daily WHERE symbol = 'AAPL' ORDER BY date"}""", Encoding.UTF8, "application/json"),
        };
        request.Headers.Accept.ParseAdd("application/vnd.apache.arrow.stream");

        using var response = await http.SendAsync(request).DefaultTimeout();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(served + 1, Engine.FastServed);
        Assert.Equal(_server.Server.Store.Version.ToString(CultureInfo.InvariantCulture), response.Headers.GetValues("X-Lakehouse-Version").Single());
        using var reader = new ArrowStreamReader(await response.Content.ReadAsStreamAsync().DefaultTimeout());
        long rows = 0;
        while (await reader.ReadNextRecordBatchAsync().AsTask().DefaultTimeout() is { } batch)
        {
            rows += batch.Length;
        }
        Assert.Equal(_bars.Count(b => b.Symbol == "AAPL"), rows);
    }

    [Fact]
    public async Task FastRead_DuringCommits_SeesOneVersion()
    {
        // Each commit sets one day's close of all three symbols to its own number; a read of that day sees one number.
        var day = new DateOnly(2024, 3, 28);
        var store = _server.Server.Store;
        IReadOnlyList<PriceBar> Day(int k) => [.. _bars.Where(b => b.Date == day).Select(b => b with { Open = k, High = k, Low = k, Close = k, AdjClose = k })];
        // (A close of 0 would be rejected by silver's validator: the numbers start at 1.)
        await store.UpsertAsync(Day(1)).DefaultTimeout();
        using var stop = new CancellationTokenSource();
        var writer = Task.Run(async () =>
        {
            for (var k = 2; !stop.IsCancellationRequested && k <= 200; k++)
            {
                await store.UpsertAsync(Day(k)).ConfigureAwait(false);
            }
        });
        var reads = 0;
        try
        {
            var served = Engine.FastServed;
            while (!writer.IsCompleted && reads < 150)
            {
                var (_, _, batches) = await Sql.SqlAsync($"SELECT symbol, close FROM silver.prices_daily WHERE date = '{day:yyyy-MM-dd}'");
                var closes = FlightSqlCalls.Column(batches, "close", (a, i) => ((DoubleArray)a).GetValue(i));
                Assert.Equal(3, closes.Count);
                Assert.True(closes.Distinct().Count() == 1, $"read {reads} saw closes {string.Join(", ", closes)} (fast path: {Engine.FastServed - served} so far)");
                reads++;
            }
            Assert.True(Engine.FastServed - served >= reads / 2, $"{Engine.FastServed - served} of {reads} reads took the fast path");
        }
        finally
        {
            stop.Cancel();
            await writer.DefaultTimeout();
        }
        Assert.True(reads > 5, $"only {reads} reads overlapped the commits");
    }

    private async Task<T> WithoutFastPathAsync<T>(Func<Task<T>> run)
    {
        Engine.Options.FastPath = false;
        try
        {
            return await run();
        }
        finally
        {
            Engine.Options.FastPath = true;
        }
    }

    private static List<string> Describe(Schema schema) =>
        [.. schema.FieldsList.Select(f => $"{f.Name}:{f.DataType.Name}:{(f.DataType as Apache.Arrow.Types.TimestampType)?.Timezone}:{f.IsNullable}:"
            + string.Join(",", (f.Metadata ?? new Dictionary<string, string>()).OrderBy(m => m.Key, StringComparer.Ordinal).Select(m => $"{m.Key}={m.Value}")))];

    private static List<string> Rows(IEnumerable<RecordBatch> batches)
    {
        var rows = new List<string>();
        foreach (var batch in batches)
        {
            for (var i = 0; i < batch.Length; i++)
            {
                rows.Add(string.Join("|", batch.Arrays.Select(a => Value(a, i))));
            }
        }
        return rows;
    }

    private static string Value(IArrowArray array, int i) => array.IsNull(i) ? "null" : array switch
    {
        StringArray a => a.GetString(i),
        Date32Array a => a.GetDateOnly(i)!.Value.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
        DoubleArray a => a.GetValue(i)!.Value.ToString("R", CultureInfo.InvariantCulture),
        Int64Array a => a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture),
        Int32Array a => a.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture),
        BooleanArray a => a.GetValue(i)!.Value ? "true" : "false",
        TimestampArray a => a.GetTimestamp(i)!.Value.ToString("O", CultureInfo.InvariantCulture),
        _ => throw new NotSupportedException(array.Data.DataType.Name),
    };
}
