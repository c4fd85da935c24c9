using Apache.Arrow;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;

// Usage: Lakehouse.Flight.Sample [grpc://host:port] [user password]
var address = new Uri(args.Length > 0 ? args[0] : "grpc://localhost:8815");
using var client = new LakehouseClient(address);
if (args.Length >= 3)
{
    await client.AuthenticateAsync(args[1], args[2]);
}

Console.WriteLine($"Datasets on {address}:");
foreach (var d in await client.ListDatasetsAsync())
{
    Console.WriteLine($"  {d.Layer}/{d.Table}: {d.TotalRecords:N0} rows, columns {string.Join(", ", d.Schema.FieldsList.Select(f => f.Name))}");
}

// Columnar: stream record batches, as a backtest would.
var query = TableQuery.Create(symbols: ["AAPL", "MSFT"], dateFrom: "2024-01-01", dateTo: "2024-03-31", columns: ["symbol", "date", "close"]);
long rows = 0;
double sum = 0;
await foreach (var batch in client.GetPricesAsync(query))
{
    var close = (DoubleArray)batch.Column("close");
    for (var i = 0; i < batch.Length; i++)
    {
        sum += close.GetValue(i) ?? 0;
    }
    rows += batch.Length;
}
Console.WriteLine($"AAPL+MSFT Q1 2024: {rows} rows, mean close {(rows == 0 ? 0 : sum / rows):F2}");

// Typed: the same data as PriceBar records.
var last = default(PriceBar);
await foreach (var bar in client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"], dateFrom: "2024-03-01", dateTo: "2024-03-31")))
{
    last = bar;
}
Console.WriteLine(last is null ? "AAPL: no data (start the server with --demo)" : $"AAPL last bar of March 2024: {last.Date:yyyy-MM-dd} close {last.Close}");

// A reproducible backtest read: the rows as the lake held them at an instant (or a version, or a named snapshot),
// whatever corrections, dividends or re-uploads came after. Here: as of one minute ago.
var asOf = ReadAsOf.AtInstant(DateTimeOffset.UtcNow.AddMinutes(-1));
long pinnedRows = 0;
await foreach (var batch in client.GetPricesAsync(query.WithAsOf(asOf)))
{
    pinnedRows += batch.Length;
}
Console.WriteLine($"AAPL+MSFT Q1 2024 {asOf}: {pinnedRows} rows");

// What the last two versions that touched AAPL changed (a vendor re-upload's audit): a diff stream.
var versions = await client.ListVersionsAsync(symbol: "AAPL", limit: 2);
if (versions.Count == 2)
{
    var diff = TableQuery.Create(symbols: ["AAPL"]).WithAsOf(ReadAsOf.AtVersion(versions[0].Version)).WithDiffFrom(versions[1].Version);
    long changed = 0;
    await foreach (var batch in client.GetPricesAsync(diff))
    {
        changed += batch.Length;
    }
    Console.WriteLine($"AAPL from version {versions[1].Version} to {versions[0].Version}: {changed} row(s) added, removed or changed");
}


// SQL over the lake (Flight SQL on the same port): monthly returns of every symbol, aggregated by the server, so only
// one row per symbol and month crosses the wire.
const string MonthlyReturns = """
    SELECT symbol, date_trunc('month', date)::DATE AS month,
           last(close ORDER BY date) / first(open ORDER BY date) - 1 AS monthly_return
    FROM silver.prices_daily WHERE date >= DATE '2024-01-01' GROUP BY ALL ORDER BY ALL
    """;
long months = 0;
await foreach (var batch in client.QueryAsync(MonthlyReturns))
{
    var symbol = (StringArray)batch.Column("symbol");
    var ret = (DoubleArray)batch.Column("monthly_return");
    for (var i = 0; i < batch.Length && months + i < 3; i++)
    {
        Console.WriteLine($"  {symbol.GetString(i)} {((Date32Array)batch.Column("month")).GetDateOnly(i):yyyy-MM}: {ret.GetValue(i):P2}");
    }
    months += batch.Length;
}
Console.WriteLine($"SQL monthly returns since 2024: {months} (symbol, month) row(s)");
