using DuckDB.NET.Data;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Tests;

public sealed class DuckDbInteropTests : IDisposable
{
    private readonly TempLake _lake = new();

    public void Dispose() => _lake.Dispose();

    [Fact]
    public async Task Silver_ReadByDuckDbWithHivePartitioning_EqualsOurReader()
    {
        var store = _lake.Open();
        var symbols = new[] { "AAPL", "^GSPC", "EURUSD=X", "BRK.B", "BTC-USD" };
        var bars = TestBars.Generate(symbols, new DateOnly(2023, 11, 15), new DateOnly(2024, 2, 10)).ToList();
        bars[3] = bars[3] with { AdjClose = null };
        await store.UpsertAsync(bars);

        var ours = store.Read(TableQuery.Create()).SelectMany(PriceBarBatches.ToBars)
            .Select(b => (b.Symbol, b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume, b.Source, b.IngestedAt))
            .ToList();

        var duck = new List<(string, DateOnly, double, double, double, double, double?, long, string, DateTimeOffset)>();
        using (var conn = new DuckDBConnection("DataSource=:memory:"))
        {
            conn.Open();
            using var cmd = conn.CreateCommand();
            var glob = Path.Combine(_lake.Dir, "silver", "prices_daily", "**", "*.parquet").Replace('\\', '/');
            cmd.CommandText = $"""
                SELECT symbol, date, open, high, low, close, adj_close, volume, source, ingested_at, filename
                FROM read_parquet('{glob}', hive_partitioning = 1, filename = true)
                ORDER BY symbol, date
                """;
            using var r = cmd.ExecuteReader();
            while (r.Read())
            {
                var date = DateOnly.FromDateTime(r.GetDateTime(1));
                // Every row is in a file of its year's band (silver bands are one year: 2024-<id>.parquet).
                Assert.StartsWith($"{date.Year}-", Path.GetFileName(r.GetString(10)), StringComparison.Ordinal);
                duck.Add((r.GetString(0), date, r.GetDouble(2), r.GetDouble(3), r.GetDouble(4), r.GetDouble(5),
                    r.IsDBNull(6) ? null : r.GetDouble(6), r.GetInt64(7), r.GetString(8),
                    new DateTimeOffset(DateTime.SpecifyKind(ToDateTime(r.GetValue(9)), DateTimeKind.Utc))));
            }
        }

        Assert.Equal(bars.Count, ours.Count);
        Assert.Equal(ours, duck);
        Assert.Contains(duck, d => d.Item1 == "^GSPC");
        Assert.Contains(duck, d => d.Item1 == "EURUSD=X");
    }

    private static DateTime ToDateTime(object value) => value switch
    {
        DateTime dt => dt.ToUniversalTime(),
        DateTimeOffset dto => dto.UtcDateTime,
        _ => throw new InvalidCastException($"ingested_at came back as {value.GetType()}"),
    };
}
