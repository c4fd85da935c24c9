using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// A table declared here, in the test, and nowhere in storage or server code: the catalogue alone
/// carries it through DoPut, DoGet, GetFlightInfo, GetSchema, ListFlights and the HTTP API.
/// </summary>
public sealed class CatalogTableTests : IAsyncLifetime
{
    private static readonly Schema ScoresSchema = new Schema.Builder()
        .Field(f => f.Name("symbol").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("day").DataType(Date32Type.Default).Nullable(false))
        .Field(f => f.Name("score").DataType(DoubleType.Default).Nullable(false))
        .Field(f => f.Name("rank").DataType(Int32Type.Default).Nullable(true))
        .Field(f => f.Name("source").DataType(StringType.Default).Nullable(false))
        .Field(f => f.Name("ingested_at").DataType(PriceTables.TimestampType).Nullable(false))
        .Build();

    private static readonly TableDefinition Scores = new(Layer.Silver, "test_scores", ScoresSchema, ["symbol", "day"], Partitioning.SymbolYear,
        validator: (batch, row, _) => ((DoubleArray)batch.Column("score")).Values[row] < 0 ? "score must be >= 0" : null);

    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o.Catalog = TableCatalog.Default.With(Scores));

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task DeclaredTable_UpsertedByDoPut_ReadListedAndPlannedThroughFlight()
    {
        var upload = Rows(("aapl", new DateOnly(2023, 12, 29), 1.5, 3), ("AAPL", new DateOnly(2024, 1, 2), 2.5, null), ("MSFT", new DateOnly(2024, 1, 2), 7.0, 1),
            ("MSFT", new DateOnly(2024, 1, 3), -1.0, 2));

        var reports = await Put("""{"table":"test_scores","source":"lab","wait":true}""", upload);

        Assert.Equal(["silver/AAPL", "silver/MSFT"], reports.Select(r => $"{r.Layer}/{r.Symbol}"));
        Assert.Equal((2L, 0L), (reports[0].Inserted, reports[0].Rejected));
        Assert.Equal((1L, 1L), (reports[1].Inserted, reports[1].Rejected));
        Assert.Contains("score must be >= 0", Assert.Single(reports[1].RejectReasons!), StringComparison.Ordinal);
        // One file per band (a year), sorted rows in each, in the table's own folder.
        Assert.Equal(["2023", "2024"], Directory.GetFiles(Path.Combine(_server.DataDir, "silver", "test_scores"), "*.parquet")
            .Select(f => Path.GetFileName(f)[..4]).Order());
        Assert.True(File.Exists(Path.Combine(_server.DataDir, "_metadata", "manifests", "silver_test_scores.jsonl")));

        // DoGet: ordered by symbol, then key; the projection as asked.
        var rows = new List<(string, DateOnly, double, int?)>();
        using (var call = _server.Raw.GetStream(new FlightTicket("""{"table":"test_scores","columns":["symbol","day","score","rank"]}""")))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                var b = call.ResponseStream.Current;
                for (var i = 0; i < b.Length; i++)
                {
                    rows.Add((((StringArray)b.Column(0)).GetString(i), ((Date32Array)b.Column(1)).GetDateOnly(i)!.Value,
                        ((DoubleArray)b.Column(2)).GetValue(i)!.Value, ((Int32Array)b.Column(3)).GetValue(i)));
                }
            }
        }
        Assert.Equal(
        [
            ("AAPL", new DateOnly(2023, 12, 29), 1.5, (int?)3), ("AAPL", new DateOnly(2024, 1, 2), 2.5, null), ("MSFT", new DateOnly(2024, 1, 2), 7.0, 1),
        ], rows);

        // A date range prunes by the table's own date column and partitioning.
        var plan = await _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor("""{"table":"test_scores","date_from":"2024-01-01"}""")).ResponseAsync.DefaultTimeout();
        Assert.Equal(2, plan.TotalRecords);
        Assert.Equal(2, plan.Endpoints.Count);

        var schema = await _server.Raw.GetSchema(FlightDescriptor.CreatePathDescriptor("silver", "test_scores")).ResponseAsync.DefaultTimeout();
        Assert.Equal(["symbol", "day", "score", "rank", "source", "ingested_at"], schema.FieldsList.Select(f => f.Name));

        var listed = new List<FlightInfo>();
        using (var list = _server.Raw.ListFlights(new FlightCriteria("silver/test")))
        {
            while (await list.ResponseStream.MoveNext().DefaultTimeout())
            {
                listed.Add(list.ResponseStream.Current);
            }
        }
        var info = Assert.Single(listed);
        Assert.Equal(["silver", "test_scores"], info.Descriptor.Paths);
        Assert.Equal(3, info.TotalRecords);

        // The same upload again changes nothing.
        var again = await Put("""{"table":"test_scores","source":"lab","wait":true}""", upload);
        Assert.All(again, r => Assert.Equal(0L, r.Inserted + r.Updated));
        Assert.Equal(3L, again.Sum(r => r.Unchanged));
    }

    [Fact]
    public async Task DeclaredTable_OverHttp_ServesItsRows()
    {
        await Put("""{"table":"test_scores","source":"lab","wait":true}""", Rows(("IBM", new DateOnly(2024, 5, 6), 4.25, 9)));
        using var http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint };

        var json = await http.GetStringAsync("/prices/daily?symbol=IBM&table=test_scores&columns=day,score").DefaultTimeout();

        using var doc = JsonDocument.Parse(json);
        var row = Assert.Single(doc.RootElement.EnumerateArray().ToArray());
        Assert.Equal(("2024-05-06", 4.25), (row.GetProperty("day").GetString(), row.GetProperty("score").GetDouble()));
    }

    [Fact]
    public async Task UploadToUnknownTable_IsRefusedListingUploadableTables()
    {
        var ex = await Assert.ThrowsAsync<RpcException>(() => Put("""{"table":"nope","source":"lab"}""", Rows(("IBM", new DateOnly(2024, 5, 6), 1, 1))));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("unknown table 'nope' for upload: use one of prices_daily, corporate_actions, test_scores", ex.Status.Detail, StringComparison.Ordinal);
    }

    private static RecordBatch Rows(params (string Symbol, DateOnly Day, double Score, int? Rank)[] rows)
    {
        var schema = new Schema.Builder()
            .Field(f => f.Name("symbol").DataType(StringType.Default))
            .Field(f => f.Name("day").DataType(Date32Type.Default))
            .Field(f => f.Name("score").DataType(DoubleType.Default))
            .Field(f => f.Name("rank").DataType(Int32Type.Default))
            .Build();
        return new RecordBatch(schema,
        [
            new StringArray.Builder().AppendRange(rows.Select(r => r.Symbol)).Build(),
            new Date32Array.Builder().AppendRange(rows.Select(r => r.Day)).Build(),
            new DoubleArray.Builder().AppendRange(rows.Select(r => r.Score)).Build(),
            Ranks(rows.Select(r => r.Rank)),
        ], rows.Length);
    }

    private static Int32Array Ranks(IEnumerable<int?> values)
    {
        var b = new Int32Array.Builder();
        foreach (var v in values)
        {
            b.Append(v);
        }
        return b.Build();
    }

    private async Task<List<StorageReport>> Put(string command, RecordBatch batch)
    {
        using var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor(command), batch.Schema).DefaultTimeout();
        await call.RequestStream.WriteAsync(batch).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        var reports = new List<StorageReport>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            reports.AddRange(JsonSerializer.Deserialize<List<StorageReport>>(call.ResponseStream.Current.ApplicationMetadata.Span, StorageReport.JsonOptions)!);
        }
        return reports;
    }
}
