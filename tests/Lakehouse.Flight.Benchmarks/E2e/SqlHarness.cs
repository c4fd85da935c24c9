using System.Diagnostics;
using System.Globalization;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Protocol.Sql;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// Flight SQL against <c>lakehouse serve</c> (issue 24's targets), beside DoGet of the same rows in the same run:
/// <c>sql --data-dir D [--symbols 500] [--years 20] [--points 200] [--scans 5] [--aggregates 5] [--as-of-version V] [--server-dll path]</c>.
/// The lake is the e2e universe (SYM0001.., years ending 2024), generated into D unless it is there already. Each query is
/// what a Flight SQL client does: GetFlightInfo (the schema), then DoGet of its one endpoint, drained.
/// </summary>
internal static class SqlHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var dataDir = BulkHarness.OptionText(args, "--data-dir") ?? throw new ArgumentException("sql needs --data-dir D");
        var o = E2eOptions.Parse(["--symbols", BulkHarness.Option(args, "--symbols", 500).ToString(CultureInfo.InvariantCulture),
            "--years", BulkHarness.Option(args, "--years", 20).ToString(CultureInfo.InvariantCulture)]);
        var points = BulkHarness.Option(args, "--points", 200);
        var scans = BulkHarness.Option(args, "--scans", 5);
        var aggregates = BulkHarness.Option(args, "--aggregates", 5);
        var dll = BulkHarness.OptionText(args, "--server-dll") ?? E2eHarness.FindServerDll() ?? "lakehouse.dll";
        if (!Directory.Exists(Path.Combine(dataDir, "silver")))
        {
            var (rows, seconds) = Universe.Generate(o, dataDir, Console.Out);
            Console.WriteLine($"generated {rows:N0} rows in {seconds:F1} s");
        }
        var (server, why) = await ServerProcess.StartAsync(dll, dataDir, TimeSpan.FromSeconds(120)).ConfigureAwait(false);
        if (server is null)
        {
            Console.Error.WriteLine($"server unavailable: {why}");
            return 1;
        }
        await using (server.ConfigureAwait(false))
        {
            using var channel = GrpcChannel.ForAddress(server.Address, new GrpcChannelOptions { MaxReceiveMessageSize = 1 << 30 });
            var client = new FlightClient(channel);
            var rows = new List<string>();
            void Row(string what, string value) => rows.Add($"| {what} | {value} |");

            // Warm-up: the first SQL query builds the version's engine instance; JIT.
            var first = Stopwatch.GetTimestamp();
            await SqlAsync(client, "SELECT 1 AS one").ConfigureAwait(false);
            Row("first SQL query of the server (builds the version's instance)", $"{Stats.Ms(first):F1} ms");
            for (var i = 0; i < 10; i++)
            {
                await SqlAsync(client, "SELECT 1 AS one").ConfigureAwait(false);
            }

            var one = await TimesAsync(points, _ => SqlAsync(client, "SELECT 1 AS one")).ConfigureAwait(false);
            Row("`SELECT 1`, p50 (p90)", Ms(one));

            // 1 symbol x 1 month: the same random (symbol, month) pairs by SQL and by DoGet.
            var random = new Random(42);
            var pairs = Enumerable.Range(0, points).Select(_ => (Universe.Symbol(random.Next(1, o.Symbols + 1)),
                new DateOnly(o.From.Year + random.Next(o.Years), random.Next(1, 13), 1))).ToArray();
            var pointSql = await TimesAsync(points, i => SqlAsync(client,
                $"SELECT * FROM silver.prices_daily WHERE symbol = '{pairs[i].Item1}' AND date BETWEEN DATE '{pairs[i].Item2:yyyy-MM-dd}' AND DATE '{pairs[i].Item2.AddMonths(1).AddDays(-1):yyyy-MM-dd}'")).ConfigureAwait(false);
            var pointGet = await TimesAsync(points, i => FlightRuns.DrainAsync(client, FlightRuns.Ticket(
                TableQuery.Create(symbols: [pairs[i].Item1], dateFrom: $"{pairs[i].Item2:yyyy-MM-dd}", dateTo: $"{pairs[i].Item2.AddMonths(1).AddDays(-1):yyyy-MM-dd}")))).ConfigureAwait(false);
            Row("1 symbol x 1 month `SELECT *`, p50 (p90)", Ms(pointSql));
            Row("the same rows by DoGet, p50 (p90)", Ms(pointGet));

            // The same queries as of an older version (the `-- lakehouse: version=` hint): the first builds that version's
            // instance, the rest reuse it (D44). Default: one version before the latest, or --as-of-version V.
            var latest = Storage.LakeStore.Open(new Storage.StoreOptions { DataDir = dataDir, CacheBytes = 0 }).LatestVersion;
            var asOf = (long)BulkHarness.Option(args, "--as-of-version", (int)Math.Max(1, latest - 1));
            var asOfFirst = Stopwatch.GetTimestamp();
            await SqlAsync(client, $"-- lakehouse: version={asOf}\nSELECT 1 AS one").ConfigureAwait(false);
            Row($"first query as of version {asOf} of {latest} (builds its instance)", $"{Stats.Ms(asOfFirst):F1} ms");
            var pointAsOf = await TimesAsync(points, i => SqlAsync(client,
                $"-- lakehouse: version={asOf}\nSELECT * FROM silver.prices_daily WHERE symbol = '{pairs[i].Item1}' AND date BETWEEN DATE '{pairs[i].Item2:yyyy-MM-dd}' AND DATE '{pairs[i].Item2.AddMonths(1).AddDays(-1):yyyy-MM-dd}'")).ConfigureAwait(false);
            var pointNow = await TimesAsync(points, i => SqlAsync(client,
                $"SELECT * FROM silver.prices_daily WHERE symbol = '{pairs[i].Item1}' AND date BETWEEN DATE '{pairs[i].Item2:yyyy-MM-dd}' AND DATE '{pairs[i].Item2.AddMonths(1).AddDays(-1):yyyy-MM-dd}'")).ConfigureAwait(false);
            Row($"1 symbol x 1 month as of version {asOf}, p50 (p90); the same at the current version right after", $"{Ms(pointAsOf)}; {Ms(pointNow)}");

            // Full scans, alternating SQL and DoGet so both see the same load.
            var sqlScan = new List<(long Rows, long Bytes, double Seconds)>();
            var getScan = new List<(long Rows, long Bytes, double Seconds)>();
            for (var i = 0; i < scans; i++)
            {
                sqlScan.Add(await TimedAsync(() => SqlAsync(client, "SELECT * FROM silver.prices_daily")).ConfigureAwait(false));
                getScan.Add(await TimedAsync(() => FlightRuns.DrainAsync(client, FlightRuns.Ticket(TableQuery.Create()))).ConfigureAwait(false));
            }
            if (scans > 0)
            {
                var sqlMbs = Stats.Median(sqlScan.Select(s => s.Bytes / 1e6 / s.Seconds).ToList());
                var getMbs = Stats.Median(getScan.Select(s => s.Bytes / 1e6 / s.Seconds).ToList());
                Row($"`SELECT * FROM silver.prices_daily` ({sqlScan[0].Rows:N0} rows), median of {scans}",
                    $"{sqlMbs:F0} MB/s ({Stats.Median(sqlScan.Select(s => s.Seconds * 1000).ToList()):F0} ms)");
                Row($"DoGet full scan ({getScan[0].Rows:N0} rows), median of {scans}",
                    $"{getMbs:F0} MB/s ({Stats.Median(getScan.Select(s => s.Seconds * 1000).ToList()):F0} ms)");
                Row("SQL / DoGet throughput", $"{sqlMbs / getMbs:F2}x");
            }

            const string Monthly = """
                SELECT symbol, date_trunc('month', date)::DATE AS month,
                       last(adj_close ORDER BY date) / first(adj_close ORDER BY date) - 1 AS ret
                FROM silver.prices_daily GROUP BY symbol, month
                """;
            var monthly = new List<double>();
            long monthlyRows = 0;
            for (var i = 0; i < aggregates; i++)
            {
                var r = await TimedAsync(() => SqlAsync(client, Monthly)).ConfigureAwait(false);
                monthly.Add(r.Seconds * 1000);
                monthlyRows = r.Rows;
            }
            Row($"monthly returns `GROUP BY symbol, month` ({monthlyRows:N0} rows), median of {aggregates}", $"{Stats.Median(monthly):F0} ms (min {monthly.Min():F0})");

            var tables = await TimesAsync(points, _ => MetadataAsync(client, new CommandGetTables { IncludeSchema = true })).ConfigureAwait(false);
            var info = await TimesAsync(points, _ => MetadataAsync(client, new CommandGetSqlInfo())).ConfigureAwait(false);
            Row("GetTables with schemas / GetSqlInfo, p50", $"{Stats.Median(tables):F2} / {Stats.Median(info):F2} ms");

            Console.WriteLine($"server pid {server.Pid}, {o.Symbols} symbols x {o.Years} years, {points} point queries; load: {File.ReadAllText("/proc/loadavg").Trim()}");
            Console.WriteLine("| figure | measured |");
            Console.WriteLine("|---|---|");
            rows.ForEach(Console.WriteLine);
        }
        return 0;
    }

    private static string Ms(List<double> samples) => string.Create(CultureInfo.InvariantCulture,
        $"{Stats.Median(samples):F2} ms ({Stats.Percentile(samples, 90):F2})");

    private static async Task<List<double>> TimesAsync(int n, Func<int, Task<(long Rows, long Bytes)>> call)
    {
        var samples = new List<double>(n);
        for (var i = 0; i < n; i++)
        {
            var start = Stopwatch.GetTimestamp();
            await call(i).ConfigureAwait(false);
            samples.Add(Stats.Ms(start));
        }
        return samples;
    }

    private static async Task<(long Rows, long Bytes, double Seconds)> TimedAsync(Func<Task<(long Rows, long Bytes)>> call)
    {
        var start = Stopwatch.GetTimestamp();
        var (rows, bytes) = await call().ConfigureAwait(false);
        return (rows, bytes, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    private static Task<(long Rows, long Bytes)> SqlAsync(FlightClient client, string sql) => MetadataAsync(client, new CommandStatementQuery { Query = sql });

    /// <summary>GetFlightInfo of the command, then DoGet of each endpoint.</summary>
    private static async Task<(long Rows, long Bytes)> MetadataAsync(FlightClient client, IMessage command)
    {
        var info = await client.GetInfo(FlightDescriptor.CreateCommandDescriptor(Any.Pack(command).ToByteArray())).ResponseAsync.ConfigureAwait(false);
        long rows = 0, bytes = 0;
        foreach (var endpoint in info.Endpoints)
        {
            var (r, b) = await FlightRuns.DrainAsync(client, endpoint.Ticket).ConfigureAwait(false);
            rows += r;
            bytes += b;
        }
        return (rows, bytes);
    }
}

/// <summary><c>sql-steps --data-dir D [--threads N]</c>: the engine in process, step by step (open, describe, execute) for a 1 symbol x 1 month query.</summary>
internal static class SqlSteps
{
    public static async Task<int> RunAsync(string[] args)
    {
        var dataDir = BulkHarness.OptionText(args, "--data-dir") ?? throw new ArgumentException("sql-steps needs --data-dir D");
        var store = Storage.LakeStore.Open(new Storage.StoreOptions { DataDir = dataDir, CacheBytes = 0 });
        store.WaitReady();
        var options = new Server.LakehouseServerOptions { DataDir = dataDir };
        options.Sql.Threads = BulkHarness.Option(args, "--threads", options.Sql.Threads);
        var engine = new Server.Internal.Sql.SqlEngine(store, options,
            Microsoft.Extensions.Logging.Abstractions.NullLogger<Server.Internal.Sql.SqlEngine>.Instance);
        const string Sql = "SELECT * FROM silver.prices_daily WHERE symbol = 'SYM0250' AND date BETWEEN DATE '2015-03-01' AND DATE '2015-03-31'";
        var setup = Server.Internal.Sql.SqlEngine.SetupScript(store.CurrentFiles(), new Server.SqlOptions());
        if (args.Contains("--no-lock"))
        {
            setup = setup.Replace("SET enable_external_access = false;", "", StringComparison.Ordinal).Replace("SET lock_configuration = true;", "", StringComparison.Ordinal);
            setup = string.Join("\n", setup.Split('\n').Where(l => !l.StartsWith("SET allowed_paths", StringComparison.Ordinal)));
        }
        using (var plain = new DuckDB.NET.Data.DuckDBConnection("DataSource=:memory:"))
        {
            plain.Open();
            using (var c = plain.CreateCommand())
            {
                c.CommandText = setup;
                c.ExecuteNonQuery();
            }
            for (var i = 0; i < 10; i++)
            {
                var t0 = Stopwatch.GetTimestamp();
                using var c = plain.CreateCommand();
                c.CommandText = Sql;
                using var r = c.ExecuteReader();
                var n = 0;
                while (r.Read())
                {
                    n++;
                }
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"plain DuckDB.NET with the setup script: {Stats.Ms(t0):F2} ms ({n} rows)"));
            }
        }
        for (var i = 0; i < 10; i++)
        {
            var t0 = Stopwatch.GetTimestamp();
            using var session = await engine.OpenAsync(CancellationToken.None).ConfigureAwait(false);
            var open = Stats.Ms(t0);
            t0 = Stopwatch.GetTimestamp();
            session.Describe(Sql, [], CancellationToken.None);
            var describe = Stats.Ms(t0);
            t0 = Stopwatch.GetTimestamp();
            var rows = await session.ExecuteAsync(Sql, [], new NullSink(), 65536, CancellationToken.None).ConfigureAwait(false);
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"open {open:F2} ms, describe {describe:F2} ms, execute {Stats.Ms(t0):F2} ms ({rows} rows)"));
        }
        return 0;
    }

    private sealed class NullSink : Server.Internal.IDoGetSink
    {
        public ValueTask<bool> StartAsync(Apache.Arrow.Schema schema, CancellationToken cancellationToken) => ValueTask.FromResult(true);

        public ValueTask<bool> WriteAsync(Apache.Arrow.RecordBatch batch, CancellationToken cancellationToken) => ValueTask.FromResult(true);
    }
}
