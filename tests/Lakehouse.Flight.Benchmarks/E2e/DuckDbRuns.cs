using System.Diagnostics;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>DuckDB reading the same Hive folders directly: the "another engine on the same files" baseline.</summary>
internal sealed class DuckDbRuns : IDisposable
{
    private readonly DuckDBConnection _connection;

    public DuckDbRuns(string dataDir)
    {
        _connection = new DuckDBConnection("Data Source=:memory:");
        _connection.Open();
        _table = Path.Combine(Path.GetFullPath(dataDir), "silver", "prices_daily");
        // DuckDB's default memory limit is 80% of RAM; on a machine shared with other engineers keep it bounded.
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"SET memory_limit = '2GB'; SET threads = {Environment.ProcessorCount}";
        cmd.ExecuteNonQuery();
    }

    private readonly string _table;

    private static string Source(string glob) => $"read_parquet('{glob.Replace("'", "''", StringComparison.Ordinal)}', hive_partitioning=1)";

    /// <summary>Full scan touching every column (aggregated inside DuckDB, so no per-row .NET cost): rows and seconds.</summary>
    public (long Rows, double Seconds) FullScan()
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = $"""
            SELECT count(*), sum(open + high + low + close), sum(adj_close), sum(volume), sum(length(source)),
                   max(ingested_at), max(date), count(DISTINCT symbol)
            FROM {Source(Path.Combine(_table, "**", "*.parquet"))}
            """;
        var start = Stopwatch.GetTimestamp();
        using var reader = cmd.ExecuteReader();
        reader.Read();
        var rows = reader.GetInt64(0);
        return (rows, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>
    /// 1 symbol x 1 month, every column pulled into .NET, per query milliseconds, over the whole table's glob (what
    /// any user writes): DuckDB prunes files and row groups by the symbol and date statistics. (With the seed's month
    /// files this took 12.7 s per query at 120,000 files, so the glob had to name the symbol's folder.)
    /// </summary>
    public List<double> PointQueries(IReadOnlyList<TableQuery> queries)
    {
        var samples = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            using var cmd = _connection.CreateCommand();
            var glob = Path.Combine(_table, "**", "*.parquet");
            cmd.CommandText = $"SELECT * FROM {Source(glob)} WHERE symbol = $symbol AND date BETWEEN $from AND $to ORDER BY date";
            cmd.Parameters.Add(new DuckDBParameter("symbol", q.Symbols[0]));
            cmd.Parameters.Add(new DuckDBParameter("from", q.DateFrom!.Value));
            cmd.Parameters.Add(new DuckDBParameter("to", q.DateTo!.Value));
            var start = Stopwatch.GetTimestamp();
            using var reader = cmd.ExecuteReader();
            var rows = 0;
            var values = new object[reader.FieldCount];
            while (reader.Read())
            {
                reader.GetValues(values);
                rows++;
            }
            samples.Add(Stats.Ms(start));
            if (rows == 0)
            {
                throw new InvalidOperationException($"DuckDB point query {q.Symbols[0]} {q.DateFrom} returned no rows");
            }
        }
        return samples;
    }

    public void Dispose() => _connection.Dispose();
}
