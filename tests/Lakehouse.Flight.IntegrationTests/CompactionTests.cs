using Apache.Arrow.Flight;
using DuckDB.NET.Data;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// The server's maintenance (decisions D35): small files that daily appends leave in a band are merged by the
/// compactor in the background; the rows stay exactly what DoGet and DuckDB over the table's folder return.
/// </summary>
public sealed class CompactionTests
{
    [Fact]
    public async Task Server_MergesTheSmallFilesOfDailyAppends_DoGetAndDuckDbEqualBeforeAndAfter()
    {
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        string[] symbols = ["AAPL", "MSFT", "^GSPC"];
        await LakeStore.Open(dir).UpsertAsync(SyntheticBars.Generate(symbols, new DateOnly(2022, 1, 1), new DateOnly(2023, 12, 29)))
            .DefaultTimeout();
        try
        {
            await using var server = await TestServer.StartAsync(o =>
            {
                o.WarmCache = true;
                o.WarmServing = false;
                o.CompactIntervalSeconds = 1;
            }, dataDir: dir);
            var store = server.Server.Store;
            // Six daily appends: six small files in the 2024 band, each with every symbol's new day.
            var days = Enumerable.Range(0, 10).Select(i => new DateOnly(2024, 1, 1).AddDays(i)).Where(d => d.DayOfWeek is not (DayOfWeek.Saturday or DayOfWeek.Sunday))
                .Take(6).ToArray();
            foreach (var day in days)
            {
                await store.UpsertAsync(SyntheticBars.Generate(symbols, day, day)).DefaultTimeout();
            }
            var expected = await DoGetAsync(server);
            Assert.Equal(expected, DuckDb(dir));

            // The compactor merges the band's small files (four or more of a size at a time, decisions D52: all six
            // when a pass sees them all, else four and later what follows), and changes no row; the older bands'
            // files stay as they are.
            var older = TableFiles(dir).Where(f => !Path.GetFileName(f).StartsWith("2024-", StringComparison.Ordinal)).Order().ToArray();
            await TestTimeouts.WaitUntilAsync(() => Band2024(dir) <= 3, "the compactor merges 2024's six small files");
            Assert.Equal(expected, await DoGetAsync(server));
            Assert.Equal(expected, DuckDb(dir));
            Assert.Equal(older, TableFiles(dir).Where(f => !Path.GetFileName(f).StartsWith("2024-", StringComparison.Ordinal)).Order().ToArray());
            Assert.Equal(2, older.Length);
        }
        finally
        {
            // The test server deletes its data dir when disposed; this covers a failure before it started.
            if (Directory.Exists(dir))
            {
                Directory.Delete(dir, recursive: true);
            }
        }
    }

    private static string[] TableFiles(string dir) => Directory.GetFiles(Path.Combine(dir, "silver", "prices_daily"), "*.parquet");

    private static int Band2024(string dir) => TableFiles(dir).Count(f => Path.GetFileName(f).StartsWith("2024-", StringComparison.Ordinal));

    private static async Task<List<string>> DoGetAsync(TestServer server)
    {
        var rows = new List<string>();
        using var call = server.Raw.GetStream(new FlightTicket("""{"columns":["symbol","date","close","volume"]}"""));
        while (await call.ResponseStream.MoveNext(CancellationToken.None).DefaultTimeout())
        {
            var b = call.ResponseStream.Current;
            var symbol = (Apache.Arrow.StringArray)b.Column(0);
            var date = (Apache.Arrow.Date32Array)b.Column(1);
            var close = (Apache.Arrow.DoubleArray)b.Column(2);
            var volume = (Apache.Arrow.Int64Array)b.Column(3);
            for (var i = 0; i < b.Length; i++)
            {
                rows.Add(FormattableString.Invariant($"{symbol.GetString(i)} {date.GetDateOnly(i):yyyy-MM-dd} {close.GetValue(i)} {volume.GetValue(i)}"));
            }
        }
        return rows;
    }

    private static List<string> DuckDb(string dir)
    {
        using var conn = new DuckDBConnection("DataSource=:memory:");
        conn.Open();
        using var cmd = conn.CreateCommand();
        var glob = Path.Combine(dir, "silver", "prices_daily", "**", "*.parquet").Replace('\\', '/');
        cmd.CommandText = $"SELECT symbol, date, close, volume FROM read_parquet('{glob}', hive_partitioning = 1) ORDER BY symbol, date";
        var rows = new List<string>();
        using var r = cmd.ExecuteReader();
        while (r.Read())
        {
            rows.Add(FormattableString.Invariant($"{r.GetString(0)} {DateOnly.FromDateTime(r.GetDateTime(1)):yyyy-MM-dd} {r.GetDouble(2)} {r.GetInt64(3)}"));
        }
        return rows;
    }
}
