using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class ConcurrencyTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync();

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task Endpoints_ReadInParallel_TogetherReturnEveryRow()
    {
        var symbols = Enumerable.Range(0, 8).Select(i => $"P{i}").ToArray();
        var bars = SyntheticBars.Generate(symbols, new DateOnly(2020, 1, 1), new DateOnly(2023, 12, 31));
        await _server.Server.Store.UpsertAsync(bars).DefaultTimeout();

        var info = await _server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor("{}")).ResponseAsync.DefaultTimeout();
        var perEndpoint = await Task.WhenAll(info.Endpoints.Select(e => Task.Run(async () =>
        {
            using var call = _server.Raw.GetStream(e.Ticket);
            var closes = new List<(string, DateOnly, double)>();
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                var b = call.ResponseStream.Current;
                var s = (StringArray)b.Column("symbol");
                var d = (Date32Array)b.Column("date");
                var c = (DoubleArray)b.Column("close");
                for (var i = 0; i < b.Length; i++)
                {
                    closes.Add((s.GetString(i), d.GetDateOnly(i)!.Value, c.GetValue(i)!.Value));
                }
            }
            return closes;
        })));

        Assert.Equal(8, info.Endpoints.Count);
        Assert.Equal(bars.Count, info.TotalRecords);
        Assert.Equal(bars.Select(b => (b.Symbol, b.Date, b.Close)), perEndpoint.SelectMany(x => x));
    }

    [Fact]
    public async Task MultiSymbolDoGet_DuringMultiSymbolCommits_SeesOneCommitAcrossAllItsSymbols()
    {
        // Every commit rewrites all symbols with one generation number in `volume`; a read that mixed
        // two commits would return two numbers.
        var symbols = Enumerable.Range(0, 10).Select(i => $"G{i:D2}").ToArray();
        var template = SyntheticBars.Generate(symbols, new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));
        IReadOnlyList<PriceBar> Generation(long g) => template.Select(b => b with { Volume = g }).ToArray();
        var store = _server.Server.Store;
        await store.UpsertAsync(Generation(1)).DefaultTimeout();
        var generation = 1L;
        var ticket = new FlightTicket(System.Text.Json.JsonSerializer.Serialize(new { symbols, columns = new[] { "symbol", "volume" } }));

        // Count-bound, yielding loops: a commit often completes synchronously, and a tight loop would hold a
        // pool thread (and starve the timers and the readers) on a 2-core machine.
        var writersDone = 0;
        var writers = Enumerable.Range(0, 2).Select(_ => Task.Run(async () =>
        {
            for (var i = 0; i < 40; i++)
            {
                await store.UpsertAsync(Generation(Interlocked.Increment(ref generation))).DefaultTimeout();
                await Task.Delay(2);
            }
            Interlocked.Increment(ref writersDone);
            return 40;
        })).ToArray();
        var readers = Enumerable.Range(0, 16).Select(_ => Task.Run(async () =>
        {
            var reads = new List<(long Rows, long[] Generations)>();
            while (Volatile.Read(ref writersDone) < 2)
            {
                using var call = _server.Raw.GetStream(ticket);
                var rows = 0L;
                var seen = new HashSet<long>();
                while (await call.ResponseStream.MoveNext().DefaultTimeout())
                {
                    var volume = (Int64Array)call.ResponseStream.Current.Column("volume");
                    rows += volume.Length;
                    for (var i = 0; i < volume.Length; i++)
                    {
                        seen.Add(volume.GetValue(i)!.Value);
                    }
                }
                reads.Add((rows, seen.Order().ToArray()));
                await Task.Yield();
            }
            return reads;
        })).ToArray();

        var commits = (await Task.WhenAll(writers).DefaultTimeout()).Sum();
        var results = (await Task.WhenAll(readers).DefaultTimeout()).SelectMany(r => r).ToList();

        Assert.True(commits >= 5, $"only {commits} commits ran");
        Assert.True(results.Count >= 16, $"only {results.Count} reads ran");
        Assert.All(results, r => Assert.Equal(template.Count, r.Rows));
        var mixed = results.Where(r => r.Generations.Length != 1).ToList();
        Assert.True(mixed.Count == 0,
            $"{mixed.Count} of {results.Count} reads mixed commits, e.g. generations {string.Join(",", mixed.FirstOrDefault().Generations ?? [])}");
        // And readers did see commits land while they read.
        Assert.True(results.Select(r => r.Generations[0]).Distinct().Count() > 1);
    }

    [Fact]
    public async Task DoPut_ClientCancelsBeforeCompleting_NothingIsWritten()
    {
        using var client = _server.Client();
        await client.UploadAsync(SyntheticBars.Generate(["KO"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)), "seed", promote: true)
            .DefaultTimeout();
        var metrics = _server.Server.Metrics;
        var ended = metrics.UploadsEnded;
        var before = _server.Snapshot();
        var bars = SyntheticBars.Generate(["IBM"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));
        using var cts = new CancellationTokenSource();

        var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor("""{"source":"vendor_x","promote":true}"""),
            PriceTables.SilverSchema, null, null, cts.Token).DefaultTimeout();
        await call.RequestStream.WriteAsync(ToBatch(bars)).DefaultTimeout();
        await cts.CancelAsync();
        call.Dispose();
        using (var timeout = new CancellationTokenSource(TestTimeouts.Default))
        {
            while (metrics.UploadsEnded == ended)
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        Assert.Equal(before, _server.Snapshot());
        Assert.Empty(await client.ReadBarsAsync(TableQuery.Create(symbols: ["IBM"])).ToListAsync());
    }

    [Fact]
    public async Task Handshake_PayloadUserPassword_IsAcceptedWhenAuthIsOn()
    {
        await using var server = await TestServer.StartAsync(TestServer.WithAuth);

        using var call = server.Raw.Handshake();
        await call.RequestStream.WriteAsync(new FlightHandshakeRequest(Google.Protobuf.ByteString.CopyFromUtf8("wendy:w-secret"), 0)).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        string? payloadToken = null;
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            payloadToken = call.ResponseStream.Current.Payload.ToStringUtf8();
        }

        Assert.NotNull(payloadToken);
        using var writer = new LakehouseClient(server.Endpoint, new LakehouseClientOptions { Token = payloadToken });
        var reports = await writer.IngestAsync(new IngestOptions { Symbols = ["AAPL"], From = new DateOnly(2024, 1, 1), To = new DateOnly(2024, 1, 5) })
            .DefaultTimeout();
        Assert.Equal(2, reports.Count);
    }

    private static RecordBatch ToBatch(IReadOnlyList<PriceBar> bars)
    {
        // The SDK's own converter is internal; this is what a caller of the raw client would build.
        var b = new Dictionary<string, IArrowArray>
        {
            ["symbol"] = new StringArray.Builder().AppendRange(bars.Select(x => x.Symbol)).Build(),
            ["date"] = new Date32Array.Builder().AppendRange(bars.Select(x => x.Date)).Build(),
            ["open"] = new DoubleArray.Builder().AppendRange(bars.Select(x => x.Open)).Build(),
            ["high"] = new DoubleArray.Builder().AppendRange(bars.Select(x => x.High)).Build(),
            ["low"] = new DoubleArray.Builder().AppendRange(bars.Select(x => x.Low)).Build(),
            ["close"] = new DoubleArray.Builder().AppendRange(bars.Select(x => x.Close)).Build(),
            ["adj_close"] = new DoubleArray.Builder().AppendRange(bars.Select(x => x.AdjClose ?? x.Close)).Build(),
            ["volume"] = new Int64Array.Builder().AppendRange(bars.Select(x => x.Volume)).Build(),
            ["source"] = new StringArray.Builder().AppendRange(bars.Select(x => x.Source)).Build(),
            ["ingested_at"] = new TimestampArray.Builder(PriceTables.TimestampType).AppendRange(bars.Select(x => x.IngestedAt)).Build(),
        };
        return new RecordBatch(PriceTables.SilverSchema, PriceTables.SilverSchema.FieldsList.Select(f => b[f.Name]), bars.Count);
    }
}
