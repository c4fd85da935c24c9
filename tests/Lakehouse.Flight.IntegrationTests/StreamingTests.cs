using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>A lake of 2,000,000+ silver rows, built once for the streaming tests (on tmpfs when there is one).</summary>
public sealed class BigLakeFixture : IAsyncLifetime
{
    public static readonly DateOnly From = new(1990, 1, 1);
    public static readonly DateOnly To = new(2025, 12, 31);
    public static readonly string[] Symbols = Enumerable.Range(0, 215).Select(i => $"S{i:D3}").ToArray();

    internal TestServer Server { get; private set; } = null!;

    public long Rows { get; private set; }

    public async Task InitializeAsync()
    {
        var root = Directory.Exists("/dev/shm") ? "/dev/shm" : null;
        // Cache off: the server must not hold the result in memory by any route.
        Server = await TestServer.StartAsync(o => o.CacheBytes = 0, root);
        foreach (var chunk in Symbols.Chunk(20))
        {
            var bars = SyntheticBars.Generate(chunk, From, To);
            await Server.Server.Store.UpsertAsync(bars);
            Rows += bars.Count;
        }
    }

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>Runs alone: the memory measurement must not see other tests' servers.</summary>
[CollectionDefinition(nameof(StreamingCollection), DisableParallelization = true)]
public sealed class StreamingCollection;

[Collection(nameof(StreamingCollection))]
public sealed class StreamingTests : IClassFixture<BigLakeFixture>
{
    private readonly BigLakeFixture _lake;

    public StreamingTests(BigLakeFixture lake) => _lake = lake;

    [Fact]
    public async Task DoGet_TwoMillionRows_StreamsWithBoundedServerMemory()
    {
        Assert.True(_lake.Rows >= 2_000_000, $"fixture has {_lake.Rows} rows");
        using var client = _lake.Server.Client();
        var baseline = GC.GetTotalMemory(forceFullCollection: true);
        long rows = 0, bytes = 0, peak = 0, batches = 0;
        double lastClose = 0;
        string? lastSymbol = null;

        await foreach (var batch in client.GetPricesAsync(TableQuery.Create()).WithCancellation(TestTimeouts.DefaultTimeoutToken()))
        {
            rows += batch.Length;
            bytes += batch.Length * 80L;
            var symbols = (Apache.Arrow.StringArray)batch.Column("symbol");
            lastSymbol = symbols.GetString(batch.Length - 1);
            lastClose = ((Apache.Arrow.DoubleArray)batch.Column("close")).GetValue(batch.Length - 1)!.Value;
            if (++batches % 25 == 0)
            {
                // Live memory only (a full collection first): what the server and client still hold.
                peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - baseline);
            }
        }

        Assert.Equal(_lake.Rows, rows);
        Assert.True(batches > 100, $"{batches} messages: the result was not sliced");
        var expectedLast = SyntheticBars.GenerateOne(BigLakeFixture.Symbols[^1], BigLakeFixture.To.AddDays(-7), BigLakeFixture.To).Last();
        Assert.Equal((expectedLast.Symbol, expectedLast.Close), (lastSymbol, lastClose));
        // The whole result is ~160 MB in Arrow; a server that built the table would hold all of it. What may
        // legitimately be live: the client's HTTP/2 receive window (grows up to 16 MB), Kestrel's and
        // ArrayPool's pooled blocks, and the store's coalescing buffer (64k rows, ~5 MB).
        Assert.True(peak < bytes / 4, $"live heap grew by {peak:N0} bytes while streaming {bytes:N0} bytes of rows");
    }

    [Fact]
    public async Task DoGet_ClientCancelsMidStream_ServerStopsReading()
    {
        var metrics = _lake.Server.Server.Metrics;
        var sentBefore = metrics.MessagesSent;
        using var cts = new CancellationTokenSource();
        var ticket = new FlightTicket(QueryCodec.Encode(TableQuery.Create()));
        var received = 0;

        using (var call = _lake.Server.Raw.GetStream(ticket, null, null, cts.Token))
        {
            var ex = await Assert.ThrowsAnyAsync<Exception>(async () =>
            {
                while (await call.ResponseStream.MoveNext(cts.Token).DefaultTimeout())
                {
                    if (++received == 3)
                    {
                        await cts.CancelAsync();
                    }
                }
            });
            Assert.True(ex is OperationCanceledException || (ex is RpcException r && r.StatusCode == StatusCode.Cancelled), ex.ToString());
        }

        // The stream's handler has returned (it counts a message only while it runs): nothing more can be sent.
        await TestTimeouts.WaitUntilAsync(() => metrics.ActiveStreams == 0, "the stream's handler returns");
        var sent = metrics.MessagesSent - sentBefore;
        var total = _lake.Rows / Server.Internal.DoGetStreamer.RowsPerMessage(PriceTables.SilverSchema, 1 << 20);
        Assert.True(sent < total / 2, $"server sent {sent} of about {total} messages after the client cancelled at 3");
    }
}
