using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>DoPut with <c>"wait": false</c>: acknowledged once durable, applied by the server's background applier (decisions D24, D27).</summary>
public sealed class BulkUploadTests : IAsyncLifetime
{
    private TestServer _server = null!;

    // Small commits, so an upload of a few symbols lands in several of them.
    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o => o.UploadApplyChunkRows = 200);

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task SubmitUpload_IsAcknowledged_ThenApplied_AsADirectUploadWouldBe()
    {
        using var client = _server.Client();
        var bars = SyntheticBars.Generate(["AAA", "BBB", "CCC", "DDD"], new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31));

        var ack = await client.SubmitUploadAsync(PriceTables.SilverSchema, [PriceBarBatches.ToBatch(bars)], "vendor_x", promote: true).DefaultTimeout();
        // Read at once: silver has the upload from the acknowledgement on (the queryable buffer, or its commits).
        var atOnce = await client.ReadBarsAsync(TableQuery.Create()).ToListAsync().DefaultTimeout();
        var reports = await client.WaitForUploadAsync(ack.RunId).DefaultTimeout();

        Assert.True(ack.Visible);
        Assert.Equal(bars.Select(b => (b.Symbol, b.Date, b.Close, b.Volume)), atOnce.Select(b => (b.Symbol, b.Date, b.Close, b.Volume)));

        Assert.Equal(bars.Count, ack.Rows);
        Assert.Equal(4, ack.Symbols);
        Assert.Equal(8, reports.Count);
        Assert.All(reports, r => Assert.Equal(ack.RunId, r.RunId));
        Assert.Equal(bars.Count, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        Assert.Equal(bars.Count, reports.Where(r => r.Layer == "bronze").Sum(r => r.Inserted));
        var read = await client.ReadBarsAsync(TableQuery.Create()).ToListAsync().DefaultTimeout();
        Assert.Equal(bars.Select(b => (b.Symbol, b.Date, b.Close, b.Volume)), read.Select(b => (b.Symbol, b.Date, b.Close, b.Volume)));
        // Silver rows carry the upload's source, as a direct DoPut stamps it.
        Assert.All(read, b => Assert.Equal("vendor_x", b.Source));
        Assert.Equal(atOnce, read);
        Assert.Empty(Directory.GetFiles(Path.Combine(_server.DataDir, "_metadata", "wal"), "*.arrows"));
        // Gold follows the applied upload as it follows a direct one.
        var report = Path.Combine(_server.DataDir, "gold", "reports", "DDD_daily_report.csv");
        using var timeout = new CancellationTokenSource(TestTimeouts.Default);
        while (!File.Exists(report))
        {
            await Task.Delay(20, timeout.Token);
        }
    }

    [Fact]
    public async Task DoPutWaitFalse_AnswersTheRunToFollow_AndUploadStatusKnowsIt()
    {
        var bars = SyntheticBars.Generate(["IBM"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));
        using var call = _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor("""{"source":"vendor_x","promote":true,"wait":false}"""),
            new Metadata());
        await call.RequestStream.WriteAsync(PriceBarBatches.ToBatch(bars)).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
        using var ack = JsonDocument.Parse(call.ResponseStream.Current.ApplicationMetadata.ToStringUtf8());
        var runId = ack.RootElement.GetProperty("run_id").GetString()!;

        Assert.Equal("durable", ack.RootElement.GetProperty("state").GetString());
        Assert.False(ack.RootElement.GetProperty("applied").GetBoolean());
        Assert.True(ack.RootElement.GetProperty("visible").GetBoolean());
        Assert.Equal(bars.Count, ack.RootElement.GetProperty("rows").GetInt64());
        Assert.Contains(runId, ack.RootElement.GetProperty("follow").GetString(), StringComparison.Ordinal);

        var status = await Action("upload-status", $$"""{"run_id":"{{runId}}","wait":true}""");
        Assert.Equal("applied", status.GetProperty("state").GetString());
        Assert.Equal(2, status.GetProperty("reports").GetArrayLength());
        Assert.Equal(bars.Count, status.GetProperty("reports")[1].GetProperty("inserted").GetInt64());

        var unknown = await Assert.ThrowsAsync<RpcException>(() => Action("upload-status", """{"run_id":"20200101T000000000-00000000"}"""));
        Assert.Equal(StatusCode.NotFound, unknown.StatusCode);
        var empty = await Assert.ThrowsAsync<RpcException>(() => Action("upload-status", ""));
        Assert.Equal(StatusCode.InvalidArgument, empty.StatusCode);
        Assert.Contains("run_id", empty.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DoPutWaitFalse_DuplicateKeyAcrossBatches_IsRefusedBeforeTheAcknowledgement_AndLeavesNoEntry()
    {
        var bars = SyntheticBars.Generate(["DUP"], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29));
        var before = _server.Snapshot();
        using var call = _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor("""{"source":"vendor_x","promote":true,"wait":false}"""),
            new Metadata());
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            await call.RequestStream.WriteAsync(PriceBarBatches.ToBatch(bars)).DefaultTimeout();
            // The second batch repeats the first batch's 2024-01-10 row.
            await call.RequestStream.WriteAsync(PriceBarBatches.ToBatch([bars[7] with { Close = bars[7].Close + 1 }])).DefaultTimeout();
            await call.RequestStream.CompleteAsync().DefaultTimeout();
            while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
            {
            }
        });

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains($"duplicate key (DUP, {bars[7].Date:yyyy-MM-dd})", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
        var wal = Path.Combine(_server.DataDir, "_metadata", "wal");
        Assert.True(!Directory.Exists(wal) || Directory.GetFiles(wal).Length == 0);
        Assert.Equal(0, _server.Server.Store.PendingUploads);
    }

    [Fact]
    public async Task SixteenDoGets_DuringABulkUploadOfTheSameSymbols_SeeOnlyCommittedStates()
    {
        // Generation 1 is in silver; the upload rewrites every symbol as generation 2 (in `volume`) in commits
        // of whole symbols: 83 rows per symbol and 200 rows per commit make pairs (Q00,Q01), (Q02,Q03), ...
        // A committed state has every symbol whole at one generation, and both symbols of a pair alike.
        var symbols = Enumerable.Range(0, 24).Select(i => $"Q{i:D2}").ToArray();
        var template = SyntheticBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 4, 30));
        var store = _server.Server.Store;
        await store.UpsertAsync(template.Select(b => b with { Volume = 1 }).ToArray()).DefaultTimeout();
        var ticket = new FlightTicket(JsonSerializer.Serialize(new { symbols, columns = new[] { "symbol", "volume" } }));
        using var client = _server.Client();

        var applied = 0;
        var readers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            var reads = new List<(long Rows, string States, bool AfterApplied)>();
            while (!reads.Any(r => r.AfterApplied) || reads.Count < 2)
            {
                var afterApplied = Volatile.Read(ref applied) == 1;
                using var call = _server.Raw.GetStream(ticket);
                var rows = 0L;
                var bySymbol = new SortedDictionary<string, HashSet<long>>(StringComparer.Ordinal);
                while (await call.ResponseStream.MoveNext().DefaultTimeout())
                {
                    var b = call.ResponseStream.Current;
                    var s = (StringArray)b.Column("symbol");
                    var v = (Int64Array)b.Column("volume");
                    rows += b.Length;
                    for (var i = 0; i < b.Length; i++)
                    {
                        (bySymbol.TryGetValue(s.GetString(i), out var set) ? set : bySymbol[s.GetString(i)] = []).Add(v.GetValue(i)!.Value);
                    }
                }
                reads.Add((rows, string.Concat(bySymbol.Values.Select(set => set.Count == 1 ? set.Single().ToString(System.Globalization.CultureInfo.InvariantCulture) : "x")), afterApplied));
                await Task.Yield();
            }
            return reads;
        })).ToArray();

        var ack = await client.SubmitUploadAsync(PriceTables.SilverSchema,
            [PriceBarBatches.ToBatch(template.Select(b => b with { Volume = 2 }).ToArray())], "bulk", promote: true).DefaultTimeout();
        await client.WaitForUploadAsync(ack.RunId).DefaultTimeout();
        Volatile.Write(ref applied, 1);
        var results = (await Task.WhenAll(readers).DefaultTimeout()).SelectMany(r => r).ToList();

        Assert.All(results, r => Assert.Equal(template.Count, r.Rows));
        static bool Committed(string states) =>
            !states.Contains('x', StringComparison.Ordinal) && Enumerable.Range(0, states.Length / 2).All(p => states[2 * p] == states[(2 * p) + 1]);
        var torn = results.Where(r => !Committed(r.States)).ToList();
        Assert.True(torn.Count == 0, $"{torn.Count} of {results.Count} reads saw no committed state, e.g. {torn.FirstOrDefault().States}");
        // A read that started after upload-status said "applied" sees all of it.
        Assert.All(results.Where(r => r.AfterApplied), r => Assert.Equal(new string('2', symbols.Length), r.States));
        // One manifest line per symbol and table under the acknowledged run.
        Assert.Equal(symbols.Length, store.ReadManifest(PriceTables.Silver, 1000).Count(r => r.RunId == ack.RunId));
    }

    [Fact]
    public async Task AfterApplicationAndCompaction_DuckDbOverTheTableFolder_ReturnsExactlyWhatDoGetReturns()
    {
        using var client = _server.Client();
        var first = SyntheticBars.Generate(["AAA", "BBB", "CCC"], new DateOnly(2023, 1, 1), new DateOnly(2024, 6, 30));
        await client.UploadAsync(first, "vendor_x", promote: true).DefaultTimeout();
        // The bulk upload changes some of those rows, adds others and a new symbol.
        var second = SyntheticBars.Generate(["BBB", "CCC", "DDD"], new DateOnly(2024, 1, 1), new DateOnly(2024, 12, 31), seed: 7);
        var ack = await client.SubmitUploadAsync(PriceTables.SilverSchema, [PriceBarBatches.ToBatch(second)], "vendor_y", promote: true).DefaultTimeout();
        await client.WaitForUploadAsync(ack.RunId).DefaultTimeout();
        var store = _server.Server.Store;
        var compaction = await store.CompactAsync().DefaultTimeout();
        Assert.Equal(0, compaction.Conflicts);
        // A write after compaction rewrites the one file holding CCC's first day of 2024.
        var changed = second.First(b => b.Symbol == "CCC");
        changed = changed with { Close = changed.Close + 0.25, High = Math.Max(changed.High, changed.Close + 0.25) };
        await client.UploadAsync([changed], "vendor_z", promote: true).DefaultTimeout();

        var flight = new List<(string, DateOnly, double, double, double, double, double?, long, string)>();
        await foreach (var b in client.ReadBarsAsync(TableQuery.Create()))
        {
            flight.Add((b.Symbol, b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume, b.Source));
        }
        var duck = new List<(string, DateOnly, double, double, double, double, double?, long, string)>();
        using (var conn = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            var glob = Path.Combine(_server.DataDir, "silver", "prices_daily", "**", "*.parquet").Replace('\\', '/');
            cmd.CommandText = $"SELECT symbol, date, open, high, low, close, adj_close, volume, source FROM read_parquet('{glob}', hive_partitioning = 1) ORDER BY symbol, date";
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                duck.Add((r.GetString(0), DateOnly.FromDateTime(r.GetDateTime(1)), r.GetDouble(2), r.GetDouble(3), r.GetDouble(4), r.GetDouble(5),
                    r.IsDBNull(6) ? null : r.GetDouble(6), r.GetInt64(7), r.GetString(8)));
            }
        }

        // Every key once: the first upload's, plus the bulk upload's new ones (DDD, and the second half of 2024).
        Assert.Equal(first.Count + second.Count(b => b.Symbol == "DDD" || b.Date.Month > 6), flight.Count);
        Assert.Equal(duck, flight);
        Assert.Contains(flight, f => f.Item1 == "CCC" && f.Item2 == changed.Date && f.Item6 == changed.Close && f.Item9 == "vendor_z");
        Assert.Contains(flight, f => f.Item1 == "BBB" && f.Item9 == "vendor_y");
    }

    private async Task<JsonElement> Action(string type, string body)
    {
        using var call = _server.Raw.DoAction(new FlightAction(type, Encoding.UTF8.GetBytes(body)), new Metadata());
        JsonElement last = default;
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            last = JsonDocument.Parse(call.ResponseStream.Current.Body.ToByteArray()).RootElement.Clone();
        }
        return last;
    }
}
