using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// SQL reads its writes (docs/decisions.md D45): a query at the current version waits for the uploads acknowledged before
/// it (DoPut with <c>"wait": false</c>) to be applied and its gold rebuilt, so it counts every acknowledged row, as DoGet
/// shows them at once, and the gold rows derived from them.
/// The upload is applied one symbol per commit (300 commits), so it is still pending when the query arrives (asserted).
/// </summary>
public sealed class FlightSqlUploadTests
{
    // Many small commits, so an upload of a few thousand rows is still being applied when the query arrives.
    private static void Slow(Server.LakehouseServerOptions o)
    {
        o.UploadApplyChunkRows = 1;
        o.Sql.Threads = 1;
    }

    [Fact]
    public async Task QueryRightAfterAnAcknowledgedUpload_CountsEveryAcknowledgedRow()
    {
        await using var server = await TestServer.StartAsync(Slow);
        var bars = SyntheticBars.Generate([.. Enumerable.Range(1, 300).Select(i => $"S{i:D3}")], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29));

        await AcknowledgeAsync(server, bars);
        Assert.True(server.Server.Store.PendingUploads > 0, "the upload was applied before the query: the test proves nothing");
        var (_, _, batches) = await new FlightSqlCalls(server.Raw).SqlAsync(
            "SELECT (SELECT count(*) FROM silver.prices_daily) AS n, (SELECT count(DISTINCT symbol) FROM silver.prices_daily) AS symbols, "
            + "(SELECT count(*) FROM gold.prices_monthly) AS months, (SELECT count(*) FROM gold.daily_metrics) AS metrics");

        Assert.Equal(bars.Count, ((Int64Array)batches[0].Column("n")).GetValue(0));
        Assert.Equal(300, ((Int64Array)batches[0].Column("symbols")).GetValue(0));
        // Gold too: the query waited for the upload's gold rebuild, not only for its silver commit.
        Assert.Equal(300 * 2, ((Int64Array)batches[0].Column("months")).GetValue(0));
        Assert.Equal(bars.Count, ((Int64Array)batches[0].Column("metrics")).GetValue(0));
        Assert.Equal(0, server.Server.Store.PendingUploads);
    }

    /// <summary>A DoPut with <c>"wait": false</c>: answered once durable, applied afterwards in the background.</summary>
    private static async Task AcknowledgeAsync(TestServer server, IReadOnlyList<PriceBar> bars)
    {
        using var call = server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor("""{"source":"vendor_x","promote":true,"wait":false}"""), new Metadata());
        await call.RequestStream.WriteAsync(PriceBarBatches.ToBatch(bars)).DefaultTimeout();
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout());
    }
}
