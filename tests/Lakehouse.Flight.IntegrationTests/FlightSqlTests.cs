using System.Globalization;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using DuckDB.NET.Data;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Protocol.Sql;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>Flight SQL statements and metadata over a real server and a real lake, checked against DuckDB over the table folders and DoGet.</summary>
public sealed class FlightSqlTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2023, 11, 1);
    private static readonly DateOnly To = new(2024, 3, 31);
    private TestServer _server = null!;
    private IReadOnlyList<PriceBar> _bars = [];

    private FlightSqlCalls Sql => new(_server.Raw);

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        _bars = SyntheticBars.Generate(["AAPL", "MSFT", "^GSPC"], From, To);
        using var client = _server.Client();
        await client.UploadAsync(_bars, "vendor_x", promote: true).DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Statement_GroupBySymbolAndMonth_EqualsDuckDbOverTheTableFolder()
    {
        const string Aggregate = """
            SELECT symbol, date_trunc('month', date)::DATE AS month, count(*) AS days, sum(volume) AS volume,
                   round(last(close ORDER BY date) / first(open ORDER BY date) - 1, 9) AS ret
            FROM {0} GROUP BY symbol, month ORDER BY symbol, month
            """;

        var (_, schema, batches) = await Sql.SqlAsync(string.Format(CultureInfo.InvariantCulture, Aggregate, "silver.prices_daily"));

        var ours = Rows(batches, b => (b.String("symbol"), b.Date("month"), b.Int64("days"), b.Int64("volume"), b.Double("ret")));
        var expected = new List<(string, DateOnly, long, long, double)>();
        using (var duck = new DuckDBConnection("DataSource=:memory:"))
        {
            duck.Open();
            using var cmd = duck.CreateCommand();
            var glob = Path.Combine(_server.DataDir, "silver", "prices_daily", "*.parquet");
            cmd.CommandText = string.Format(CultureInfo.InvariantCulture, Aggregate, $"read_parquet('{glob}')");
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                expected.Add((r.GetString(0), DateOnly.FromDateTime(r.GetDateTime(1)), r.GetInt64(2), (long)r.GetFieldValue<System.Numerics.BigInteger>(3), r.GetDouble(4)));
            }
        }
        Assert.Equal(["symbol", "month", "days", "volume", "ret"], schema.FieldsList.Select(f => f.Name));
        Assert.Equal(3 * 5, ours.Count);
        Assert.Equal(expected, ours);
        Assert.Equal(_bars.Count(b => b.Symbol == "MSFT" && b.Date.Month == 1), ours.Single(r => r.Item1 == "MSFT" && r.Item2 == new DateOnly(2024, 1, 1)).Item3);
    }

    [Fact]
    public async Task Statement_OneSymbolAllColumns_EqualsDoGetOfTheSameRows()
    {
        var (info, schema, batches) = await Sql.SqlAsync("SELECT * FROM silver.prices_daily WHERE symbol = 'MSFT' ORDER BY date");

        var doGet = new List<RecordBatch>();
        using (var call = _server.Raw.GetStream(new FlightTicket("""{"symbols":["MSFT"]}""")))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                doGet.Add(call.ResponseStream.Current);
            }
        }
        Assert.Equal(PriceTables.SilverSchema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)), schema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)));
        Assert.Equal(schema.FieldsList.Select(f => f.Name), info.Schema.FieldsList.Select(f => f.Name));
        Assert.Equal(_bars.Count(b => b.Symbol == "MSFT"), batches.Sum(b => b.Length));
        Assert.Equal(AllValues(doGet), AllValues(batches));
    }

    [Fact]
    public async Task GetSchema_Statement_IsTheSchemaDoGetStreams()
    {
        const string Query = "SELECT symbol, max(close) AS top, count(*) AS n, min(date) AS first FROM silver.prices_daily GROUP BY symbol";

        var described = await Sql.SchemaAsync(new CommandStatementQuery { Query = Query });
        var (_, streamed, batches) = await Sql.SqlAsync(Query);

        Assert.Equal(["symbol:String", "top:Double", "n:Int64", "first:Date32"], described.FieldsList.Select(f => $"{f.Name}:{f.DataType.TypeId}"));
        Assert.Equal(described.FieldsList.Select(f => (f.Name, f.DataType.TypeId)), streamed.FieldsList.Select(f => (f.Name, f.DataType.TypeId)));
        Assert.Equal(3, batches.Sum(b => b.Length));
    }

    [Theory]
    [InlineData("SELEC * FROM silver.prices_daily", "syntax error")]
    [InlineData("SELECT nope FROM silver.prices_daily", "nope")]
    [InlineData("SELECT * FROM silver.no_such_table", "no_such_table")]
    public async Task Statement_BadSql_InvalidArgumentWithTheEnginesMessage(string query, string mentions)
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.SqlAsync(query));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(mentions, ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(_server.DataDir, ex.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Metadata_CatalogsSchemasTablesTypesKeys_DescribeTheCatalogue()
    {
        var catalogs = (await Sql.QueryAsync(new CommandGetCatalogs())).Batches;
        var schemas = (await Sql.QueryAsync(new CommandGetDbSchemas())).Batches;
        var tables = (await Sql.QueryAsync(new CommandGetTables { IncludeSchema = true, DbSchemaFilterPattern = "s%" })).Batches;
        var types = (await Sql.QueryAsync(new CommandGetTableTypes())).Batches;
        var keys = (await Sql.QueryAsync(new CommandGetPrimaryKeys { DbSchema = "silver", Table = "prices_daily" })).Batches;

        Assert.Equal(["lakehouse"], Strings(catalogs, "catalog_name"));
        Assert.Equal(["bronze", "gold", "silver"], Strings(schemas, "db_schema_name"));
        Assert.Equal(["corporate_actions", "prices_daily"], Strings(tables, "table_name"));
        Assert.Equal(["silver", "silver"], Strings(tables, "db_schema_name"));
        var prices = ArrowSerializationHelpers(((BinaryArray)tables.Single().Column("table_schema")).GetBytes(1).ToArray());
        Assert.Equal(PriceTables.SilverSchema.FieldsList.Select(f => (f.Name, f.DataType.TypeId)), prices.FieldsList.Select(f => (f.Name, f.DataType.TypeId)));
        Assert.Equal("DATE", prices.GetFieldByName("date").Metadata["ARROW:FLIGHT:SQL:TYPE_NAME"]);
        Assert.Equal(["TABLE"], Strings(types, "table_type"));
        Assert.Equal(["symbol", "date"], Strings(keys, "column_name"));
        Assert.Equal([1, 2], FlightSqlCalls.Column(keys, "key_sequence", (a, i) => ((Int32Array)a).GetValue(i)));
    }

    [Fact]
    public async Task GetTables_EmptyStringFilters_AsTheArrowCppClientSendsThem_ListEveryTable()
    {
        var tables = (await Sql.QueryAsync(new CommandGetTables { Catalog = "", DbSchemaFilterPattern = "", TableNameFilterPattern = "" })).Batches;

        Assert.Equal(_server.Server.Store.Catalog.Tables.Count, tables.Sum(b => b.Length));
        Assert.Equal(4, tables.Single().ColumnCount);
    }

    [Fact]
    public async Task SqlInfo_NameReadOnlyQuoting_AndXdbcTypes()
    {
        var info = (await Sql.QueryAsync(new CommandGetSqlInfo { Info = { 0, 3, 504, 9 } })).Batches.Single();
        var xdbc = (await Sql.QueryAsync(new CommandGetXdbcTypeInfo())).Batches.Single();

        var names = (UInt32Array)info.Column("info_name");
        var values = (DenseUnionArray)info.Column("value");
        var byId = Enumerable.Range(0, info.Length).ToDictionary(i => names.GetValue(i)!.Value, i => UnionValue(values, i));
        Assert.Equal("Lakehouse.Flight", byId[0]);
        Assert.Equal(true, byId[3]);
        Assert.Equal("\"", byId[504]);
        Assert.Equal(true, byId[9]);
        Assert.Equal(4, info.Length);
        Assert.Contains("VARCHAR", Strings([xdbc], "type_name"));
        Assert.Equal(91, FlightSqlCalls.Column([xdbc], "data_type", (a, i) => ((Int32Array)a).GetValue(i))[Strings([xdbc], "type_name").IndexOf("DATE")]);
    }

    [Fact]
    public async Task PreparedStatement_BoundParameter_AnswersThatSymbolsRows_ThenClosed()
    {
        var prepared = await Sql.PrepareAsync("SELECT count(*) AS n, max(close) AS top FROM silver.prices_daily WHERE symbol = ? AND date >= $2");
        var parameters = ArrowSerializationHelpers(prepared.ParameterSchema.ToByteArray());
        Assert.Equal(2, parameters.FieldsList.Count);
        Assert.Equal(["n", "top"], ArrowSerializationHelpers(prepared.DatasetSchema.ToByteArray()).FieldsList.Select(f => f.Name));
        var command = new CommandPreparedStatementQuery { PreparedStatementHandle = prepared.PreparedStatementHandle };

        var bind = new RecordBatch.Builder()
            .Append("symbol", false, c => c.String(s => s.Append("AAPL")))
            .Append("from", false, c => c.Date32(d => d.Append(new DateOnly(2024, 2, 1))))
            .Build();
        await Sql.PutAsync(command, bind);
        var batches = (await Sql.QueryAsync(command)).Batches;

        var aapl = _bars.Where(b => b.Symbol == "AAPL" && b.Date >= new DateOnly(2024, 2, 1)).ToList();
        Assert.Equal([(long)aapl.Count], FlightSqlCalls.Column(batches, "n", (a, i) => ((Int64Array)a).GetValue(i)));
        Assert.Equal([aapl.Max(b => b.Close)], FlightSqlCalls.Column(batches, "top", (a, i) => ((DoubleArray)a).GetValue(i)));

        await Sql.ActionAsync("ClosePreparedStatement", Any.Pack(new ActionClosePreparedStatementRequest { PreparedStatementHandle = prepared.PreparedStatementHandle }).ToByteString());
        var closed = await Assert.ThrowsAsync<RpcException>(() => Sql.QueryAsync(command));
        Assert.Equal(StatusCode.NotFound, closed.StatusCode);
    }

    [Fact]
    public async Task PreparedStatement_WithoutParameters_RunsAsIs()
    {
        var prepared = await Sql.PrepareAsync("SELECT symbol, count(*) AS n FROM silver.prices_daily GROUP BY symbol ORDER BY symbol");

        var batches = (await Sql.QueryAsync(new CommandPreparedStatementQuery { PreparedStatementHandle = prepared.PreparedStatementHandle })).Batches;

        Assert.True(prepared.ParameterSchema.IsEmpty);
        Assert.Equal(["AAPL", "MSFT", "^GSPC"], Strings(batches, "symbol"));
        Assert.Equal(_bars.Count(b => b.Symbol == "MSFT"), FlightSqlCalls.Column(batches, "n", (a, i) => ((Int64Array)a).GetValue(i))[1]);
    }

    [Fact]
    public async Task StatementUpdate_Refused_SayingHowTheLakeIsWritten()
    {
        var batch = new RecordBatch.Builder().Append("x", false, c => c.Int64(b => b.Append(1))).Build();

        var ex = await Assert.ThrowsAsync<RpcException>(() => Sql.PutAsync(new CommandStatementUpdate { Query = "DELETE FROM silver.prices_daily" }, batch));

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains("uploads", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(_bars.Count, (await Sql.SqlAsync("SELECT count(*) AS n FROM silver.prices_daily")).Batches.Sum(b => ((Int64Array)b.Column(0)).GetValue(0)));
    }

    [Fact]
    public async Task ExistingTickets_StillServed_BesideFlightSql()
    {
        using var call = _server.Raw.GetStream(new FlightTicket("""{"symbols":["AAPL"],"columns":["date","close"]}"""));
        var rows = 0;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            rows += call.ResponseStream.Current.Length;
        }

        Assert.Equal(_bars.Count(b => b.Symbol == "AAPL"), rows);
    }

    internal static Schema ArrowSerializationHelpers(byte[] ipcSchema)
    {
        using var reader = new ArrowStreamReader(new MemoryStream(ipcSchema));
        return reader.Schema;
    }

    private static object? UnionValue(DenseUnionArray union, int i)
    {
        var child = union.Fields[union.TypeIds[i]];
        var offset = union.ValueOffsets[i];
        return child switch
        {
            StringArray s => s.GetString(offset),
            BooleanArray b => b.GetValue(offset),
            Int32Array n => n.GetValue(offset),
            _ => null,
        };
    }

    internal static List<string> Strings(IEnumerable<RecordBatch> batches, string column) =>
        FlightSqlCalls.Column(batches, column, (a, i) => ((StringArray)a).GetString(i)).Select(s => s!).ToList();

    private static List<T> Rows<T>(IEnumerable<RecordBatch> batches, Func<Row, T> row) =>
        batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => row(new Row(b, i)))).ToList();

    /// <summary>Every value of every row, as text, column by column (nulls as "null").</summary>
    private static List<string> AllValues(IEnumerable<RecordBatch> batches) =>
        batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => string.Join("|", b.Schema.FieldsList.Select(f => Text(b.Column(f.Name), i))))).ToList();

    private static string Text(IArrowArray array, int i) => array.IsNull(i) ? "null" : array switch
    {
        StringArray s => s.GetString(i),
        Date32Array d => d.GetDateOnly(i)!.Value.ToString("O", CultureInfo.InvariantCulture),
        DoubleArray d => d.GetValue(i)!.Value.ToString("R", CultureInfo.InvariantCulture),
        Int64Array l => l.GetValue(i)!.Value.ToString(CultureInfo.InvariantCulture),
        TimestampArray t => t.GetTimestamp(i)!.Value.ToString("O", CultureInfo.InvariantCulture),
        _ => throw new InvalidOperationException(array.GetType().Name),
    };

    private readonly record struct Row(RecordBatch Batch, int Index)
    {
        public string String(string c) => ((StringArray)Batch.Column(c)).GetString(Index);

        public DateOnly Date(string c) => ((Date32Array)Batch.Column(c)).GetDateOnly(Index)!.Value;

        public long Int64(string c) => ((Int64Array)Batch.Column(c)).GetValue(Index)!.Value;

        public double Double(string c) => ((DoubleArray)Batch.Column(c)).GetValue(Index)!.Value;
    }
}
