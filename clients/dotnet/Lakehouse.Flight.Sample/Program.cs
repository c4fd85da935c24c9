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
