using Apache.Arrow;
using Apache.Arrow.Flight;
using Google.Protobuf;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Protocol.Sql;
using Lakehouse.Flight.Server.Internal.Sql;
using Microsoft.Extensions.DependencyInjection;
using static Lakehouse.Flight.Protocol.Sql.CommandStatementIngest.Types.TableDefinitionOptions.Types;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>Flight SQL bulk ingest (CommandStatementIngest) over a real server: rows read back by DoGet and by SQL, refusals, roles.</summary>
public sealed class FlightSqlIngestTests : IAsyncLifetime
{
    private static readonly DateOnly From = new(2024, 1, 1);
    private static readonly DateOnly To = new(2024, 2, 29);
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(TestServer.WithAuth);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private FlightSqlCalls Sql(string token = TestServer.WriterToken) => new(_server.Raw, TestServer.Bearer(token));

    private static CommandStatementIngest Ingest(string table, params (string Key, string Value)[] options)
    {
        var command = new CommandStatementIngest
        {
            Table = table,
            TableDefinitionOptions = new() { IfNotExist = TableNotExistOption.Fail, IfExists = TableExistsOption.Append },
        };
        foreach (var (key, value) in options)
        {
            command.Options[key] = value;
        }
        return command;
    }

    /// <summary>DoPut of several batches under <paramref name="command"/>; the PutResults' metadata.</summary>
    private async Task<List<ByteString>> PutAsync(IMessage command, string token, params RecordBatch[] batches)
    {
        using var call = await _server.Raw.StartPut(FlightSqlCalls.Descriptor(command), batches[0].Schema, TestServer.Bearer(token)).DefaultTimeout();
        try
        {
            foreach (var batch in batches)
            {
                await call.RequestStream.WriteAsync(batch).DefaultTimeout();
            }
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // Refused before the end of the stream: the response carries the status.
        }
        var results = new List<ByteString>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            results.Add(call.ResponseStream.Current.ApplicationMetadata);
        }
        return results;
    }

    private async Task<long> CountAsync(string sql)
    {
        var (_, _, batches) = await Sql().SqlAsync(sql);
        return ((Int64Array)batches.Single().Column(0)).GetValue(0)!.Value;
    }

    [Fact]
    public async Task Ingest_WriterIntoBronze_AnswersTheCountAndDoGetAndSqlReadTheRows()
    {
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], From, To);
        var half = bars.Count / 2;

        var results = await PutAsync(Ingest("bronze.prices_daily", ("source", "vendor_q")), TestServer.WriterToken,
            PriceBarBatches.ToBatch(bars, 0, half), PriceBarBatches.ToBatch(bars, half, bars.Count - half));

        Assert.Equal(bars.Count, DoPutUpdateResult.Parser.ParseFrom(Assert.Single(results)).RecordCount);
        var doGet = new List<RecordBatch>();
        using (var call = _server.Raw.GetStream(new FlightTicket("""{"layer":"bronze","symbols":["MSFT"]}"""), TestServer.Bearer(TestServer.ReaderToken)))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                doGet.Add(call.ResponseStream.Current);
            }
        }
        var msft = bars.Where(b => b.Symbol == "MSFT").ToList();
        Assert.Equal(msft.Select(b => (b.Date, b.Close)), doGet.SelectMany(PriceBarBatches.ToBars).Select(b => (b.Date, b.Close)));
        Assert.All(doGet.SelectMany(PriceBarBatches.ToBars), b => Assert.Equal("vendor_q", b.Source));
        var (_, _, sql) = await Sql(TestServer.ReaderToken).SqlAsync(
            "SELECT symbol, count(*) AS n, sum(close) AS total FROM bronze.prices_daily WHERE source = 'vendor_q' GROUP BY symbol ORDER BY symbol");
        var batch = Assert.Single(sql);
        Assert.Equal(["AAPL", "MSFT"], Enumerable.Range(0, 2).Select(i => ((StringArray)batch.Column("symbol")).GetString(i)));
        Assert.Equal(msft.Count, ((Int64Array)batch.Column("n")).GetValue(1));
        Assert.Equal(msft.Sum(b => b.Close), ((DoubleArray)batch.Column("total")).GetValue(1)!.Value, 6);
        // Bronze only: silver is untouched without the promote option.
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM silver.prices_daily"));
    }

    [Fact]
    public async Task Ingest_SchemaFieldAndPromote_LandsInBronzeAndSilver()
    {
        var bars = SyntheticBars.Generate(["IBM"], From, To);
        var command = Ingest("prices_daily", ("promote", "true"));
        command.Schema = "bronze";
        command.Catalog = "lakehouse";

        var results = await PutAsync(command, TestServer.WriterToken, PriceBarBatches.ToBatch(bars));

        Assert.Equal(bars.Count, DoPutUpdateResult.Parser.ParseFrom(Assert.Single(results)).RecordCount);
        Assert.Equal(bars.Count, await CountAsync("SELECT count(*) FROM bronze.prices_daily WHERE symbol = 'IBM' AND source = 'flight_sql'"));
        Assert.Equal(bars.Count, await CountAsync("SELECT count(*) FROM silver.prices_daily WHERE symbol = 'IBM'"));
    }

    [Fact]
    public async Task Ingest_CorporateActions_LandInSilverAsAnUploadDoes()
    {
        var now = DateTimeOffset.UtcNow;
        CorporateAction[] actions =
        [
            new("AAPL", new DateOnly(2024, 2, 9), CorporateActionTypes.Dividend, 0.24, null, null, "", now),
            new("AAPL", new DateOnly(2024, 5, 10), CorporateActionTypes.Dividend, 0.25, null, null, "", now),
            new("NVDA", new DateOnly(2024, 6, 10), CorporateActionTypes.Split, null, 10, 1, "", now),
        ];

        var results = await PutAsync(Ingest("silver.corporate_actions", ("source", "vendor_ca")), TestServer.WriterToken, CorporateActionBatches.ToBatch(actions));

        Assert.Equal(3, DoPutUpdateResult.Parser.ParseFrom(Assert.Single(results)).RecordCount);
        var (_, _, batches) = await Sql(TestServer.ReaderToken).SqlAsync(
            "SELECT symbol, type, coalesce(value, numerator / denominator) AS amount, source FROM silver.corporate_actions ORDER BY symbol, date");
        var rows = batches.SelectMany(b => Enumerable.Range(0, b.Length).Select(i => (((StringArray)b.Column("symbol")).GetString(i),
            ((StringArray)b.Column("type")).GetString(i), ((DoubleArray)b.Column("amount")).GetValue(i), ((StringArray)b.Column("source")).GetString(i))));
        Assert.Equal([("AAPL", "dividend", 0.24, "vendor_ca"), ("AAPL", "dividend", 0.25, "vendor_ca"), ("NVDA", "split", 10.0, "vendor_ca")],
            rows.Select(r => (r.Item1, r.Item2, r.Item3!.Value, r.Item4)));
    }

    [Fact]
    public async Task Ingest_Reader_PermissionDenied_LakeUnchanged()
    {
        var before = _server.Snapshot();

        var ex = await Assert.ThrowsAsync<RpcException>(() => PutAsync(Ingest("bronze.prices_daily"), TestServer.ReaderToken,
            PriceBarBatches.ToBatch(SyntheticBars.Generate(["AAPL"], From, To))));

        Assert.Equal(StatusCode.PermissionDenied, ex.StatusCode);
        Assert.Contains("writer role", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    [Fact]
    public async Task Ingest_BadSecondBatch_RefusedWhole_LakeAsItWas()
    {
        var bars = SyntheticBars.Generate(["AAPL"], From, To);
        var before = _server.Snapshot();

        // The second batch repeats a key of the first: the whole ingest is refused, the first batch with it.
        var ex = await Assert.ThrowsAsync<RpcException>(() => PutAsync(Ingest("bronze.prices_daily"), TestServer.WriterToken,
            PriceBarBatches.ToBatch(bars, 0, 20), PriceBarBatches.ToBatch(bars, 19, 5)));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("duplicate", ex.Status.Detail, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(before, _server.Snapshot());
        Assert.Equal(0, await CountAsync("SELECT count(*) FROM bronze.prices_daily"));
    }

    public static TheoryData<string, string> Unserved => new()
    {
        { "silver.prices_daily", "bronze.prices_daily with the option promote=true" },
        { "gold.daily_metrics", "ingest into one of bronze.prices_daily, silver.corporate_actions" },
        { "prices_daily", "name the table as SQL does, with its layer" },
        { "option:format=parquet", "unknown ingest option 'format'" },
        { "option:promote=yes", "promote must be true or false" },
        { "replace", "if_exists = TABLE_EXISTS_OPTION_APPEND" },
        { "temporary", "temporary tables are not served" },
        { "transaction", "transactions are not served" },
        { "catalog", "the only catalog is lakehouse" },
    };

    [Theory]
    [MemberData(nameof(Unserved))]
    public async Task Ingest_WhatTheLakeCannotHonour_InvalidArgumentSayingWhatIsAllowed(string what, string mentions)
    {
        var command = Ingest("bronze.prices_daily");
        switch (what)
        {
            case var option when option.StartsWith("option:", StringComparison.Ordinal):
                var (key, value) = (option[7..].Split('=')[0], option[7..].Split('=')[1]);
                command.Options[key] = value;
                break;
            case "replace":
                command.TableDefinitionOptions.IfExists = TableExistsOption.Replace;
                break;
            case "temporary":
                command.Temporary = true;
                break;
            case "transaction":
                command.TransactionId = ByteString.CopyFromUtf8("t1");
                break;
            case "catalog":
                command.Catalog = "main";
                break;
            default:
                command.Table = what;
                break;
        }
        var before = _server.Snapshot();

        var ex = await Assert.ThrowsAsync<RpcException>(() => PutAsync(command, TestServer.WriterToken,
            PriceBarBatches.ToBatch(SyntheticBars.Generate(["AAPL"], From, To))));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(mentions, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    [Fact]
    public async Task SqlInfo_SaysBulkIngestIsServedWithoutTransactions()
    {
        var (_, _, batches) = await Sql().QueryAsync(new CommandGetSqlInfo { Info = { 10, 11 } });

        var batch = Assert.Single(batches);
        var names = (UInt32Array)batch.Column("info_name");
        var values = (DenseUnionArray)batch.Column("value");
        var bools = (BooleanArray)values.Fields[1];
        var answered = Enumerable.Range(0, batch.Length).ToDictionary(i => names.GetValue(i)!.Value, i => bools.GetValue(values.ValueOffsets[i]));
        Assert.Equal(true, answered[10]);
        Assert.Equal(false, answered[11]);
    }

    [Fact]
    public async Task Sdk_BulkIngestThenQueryAsync_StreamsTheIngestedRows()
    {
        var bars = SyntheticBars.Generate(["^GSPC", "EURUSD=X"], From, To);
        using var client = _server.Client(TestServer.WriterToken);

        var ingested = await client.BulkIngestAsync("bronze.prices_daily", PriceTables.SilverSchema, [PriceBarBatches.ToBatch(bars)], source: "sdk", promote: true)
            .DefaultTimeout();
        var read = new List<RecordBatch>();
        await foreach (var batch in client.QueryAsync("SELECT symbol, date, close FROM silver.prices_daily ORDER BY symbol, date").WithCancellation(CancellationToken.None))
        {
            read.Add(batch);
        }

        Assert.Equal(bars.Count, ingested);
        var expected = bars.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date, b.Close));
        var rows = read.SelectMany(b => Enumerable.Range(0, b.Length).Select(i =>
            (((StringArray)b.Column("symbol")).GetString(i), ((Date32Array)b.Column("date")).GetDateOnly(i)!.Value, ((DoubleArray)b.Column("close")).GetValue(i)!.Value)));
        Assert.Equal(expected, rows);
    }

    [Fact]
    public async Task Sdk_QueryAsyncWithParameters_BindsThemAsAPreparedStatementAndClosesIt()
    {
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], From, To);
        using (var writer = _server.Client(TestServer.WriterToken))
        {
            await writer.UploadAsync(bars, "vendor_x", promote: true).DefaultTimeout();
        }
        using var client = _server.Client(TestServer.ReaderToken);

        var read = new List<RecordBatch>();
        await foreach (var batch in client.QueryAsync("SELECT date, close FROM silver.prices_daily WHERE symbol = ? AND date >= ? AND volume >= ? ORDER BY date",
            ["MSFT", new DateOnly(2024, 2, 1), 0L]))
        {
            read.Add(batch);
        }

        var expected = bars.Where(b => b.Symbol == "MSFT" && b.Date >= new DateOnly(2024, 2, 1)).OrderBy(b => b.Date).Select(b => (b.Date, b.Close));
        var rows = read.SelectMany(b => Enumerable.Range(0, b.Length).Select(i =>
            (((Date32Array)b.Column("date")).GetDateOnly(i)!.Value, ((DoubleArray)b.Column("close")).GetValue(i)!.Value)));
        Assert.Equal(expected, rows);
        Assert.Equal(0, _server.Server.Services.GetRequiredService<PreparedStatements>().Count);
    }

    [Fact]
    public async Task Sdk_QueryAsync_BadSql_InvalidArgumentWithTheEnginesMessage()
    {
        using var client = _server.Client(TestServer.ReaderToken);

        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await foreach (var _ in client.QueryAsync("SELECT nope FROM silver.prices_daily"))
            {
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("nope", ex.Status.Detail, StringComparison.Ordinal);
    }
}
