using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Lakehouse.Flight.Benchmarks.Micro;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Csv;
using Lakehouse.Flight.Ingestion.Yahoo;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>dotnet run -c Release --project tests/Lakehouse.Flight.Benchmarks -- ingest [--symbols 20] [--csv-files 100]</c>:
/// parse + land rates of the real sources through the runner into a fresh lake (bronze + silver, fsyncs
/// included): a generated 10-year Yahoo chart answer per symbol served over real HTTP by a local
/// listener, and a folder of Yahoo-style CSV files (100 x 10,000 rows = 1M rows by default).
/// </summary>
internal static class IngestHarness
{
    public static async Task<int> RunAsync(string[] args)
    {
        var symbols = Option(args, "--symbols", 20);
        var csvFiles = Option(args, "--csv-files", 100);
        var root = Path.Combine(Path.GetTempPath(), "lakehouse-ingest-bench-" + Guid.NewGuid().ToString("N"));
        try
        {
            var chart = new YahooParseBenchmarks();
            chart.Setup();
            using var http = Serve(chart.Body, out var baseUrl);
            using var yahoo = YahooPriceSource.Create(new YahooOptions { BaseUrl = baseUrl, RequestsPerSecond = 1000, MaxConcurrency = 4 });
            var names = Enumerable.Range(0, symbols).Select(i => $"Y{i:D3}").ToArray();
            var (yRows, ySeconds) = await Time(root, "yahoo-lake", yahoo,
                new IngestRequest("yahoo", names, new DateOnly(2014, 1, 1), new DateOnly(2023, 12, 31)));
            Console.WriteLine($"| Yahoo 10-year chart x {symbols} symbols, served over loopback HTTP -> bronze + silver | {yRows:N0} rows in {ySeconds:F2} s | {yRows / ySeconds:N0} rows/s |");

            var folder = Path.Combine(root, "csv");
            Directory.CreateDirectory(folder);
            for (var i = 0; i < csvFiles; i++)
            {
                await File.WriteAllTextAsync(Path.Combine(folder, $"C{i:D3}.csv"), YahooCsv.Generate(CsvSourceFolderBenchmarks.RowsPerFile, seed: i));
            }
            var (cRows, cSeconds) = await Time(root, "csv-lake", new CsvPriceSource(), new IngestRequest("csv", [], null, null, Path: folder));
            Console.WriteLine($"| CSV folder, {csvFiles} files x {CsvSourceFolderBenchmarks.RowsPerFile:N0} rows -> bronze + silver | {cRows:N0} rows in {cSeconds:F2} s | {cRows / cSeconds:N0} rows/s |");
            return 0;
        }
        finally
        {
            try
            {
                Directory.Delete(root, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<(long Rows, double Seconds)> Time(string root, string lake, IPriceSource source, IngestRequest request)
    {
        var store = LakeStore.Open(Path.Combine(root, lake));
        var runner = new IngestionRunner(store, new LakeWriter(store, new Ingestion.Gold.GoldBuilder(store)), [source]);
        var sw = Stopwatch.StartNew();
        var result = await runner.RunAsync(request);
        var seconds = sw.Elapsed.TotalSeconds;
        if (result.Failures.Count > 0)
        {
            throw new InvalidOperationException($"{result.Failures[0].Symbol}: {result.Failures[0].Error}");
        }
        return (result.Reports.Where(r => r.Layer == "silver" && r.Table == "prices_daily").Sum(r => r.Inserted), seconds);
    }

    /// <summary>A loopback listener answering every chart request with the same body.</summary>
    private static HttpListener Serve(byte[] body, out string baseUrl)
    {
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            baseUrl = $"http://127.0.0.1:{((IPEndPoint)probe.LocalEndpoint).Port}";
            probe.Stop();
        }
        var listener = new HttpListener();
        listener.Prefixes.Add(baseUrl + "/");
        listener.Start();
        _ = Task.Run(async () =>
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception ex) when (ex is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }
                context.Response.ContentType = "application/json";
                context.Response.ContentLength64 = body.Length;
                await context.Response.OutputStream.WriteAsync(body);
                context.Response.Close();
            }
        });
        return listener;
    }

    private static int Option(string[] args, string name, int fallback)
    {
        var i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? int.Parse(args[i + 1], CultureInfo.InvariantCulture) : fallback;
    }
}
