using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Server;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>How the SQL tests start a server and fill it: a small engine (one thread, 64 MB), no serving warm-up, synthetic bars uploaded.</summary>
internal static class SqlTestServer
{
    public static Task<TestServer> StartAsync(Action<LakehouseServerOptions>? configure = null) =>
        TestServer.StartAsync(o =>
        {
            o.WarmServing = false;
            o.Sql.Threads = 1;
            o.Sql.MemoryLimitMb = 64;
            configure?.Invoke(o);
        });

    /// <summary>Uploads the symbols' synthetic bars of [<paramref name="from"/>, <paramref name="to"/>] with promote, and returns them.</summary>
    public static async Task<IReadOnlyList<PriceBar>> UploadSyntheticAsync(this TestServer server, IReadOnlyList<string> symbols, DateOnly from, DateOnly to)
    {
        var bars = SyntheticBars.Generate(symbols, from, to);
        using var client = server.Client();
        await client.UploadAsync(bars, "vendor_x", promote: true).DefaultTimeout();
        return bars;
    }
}
