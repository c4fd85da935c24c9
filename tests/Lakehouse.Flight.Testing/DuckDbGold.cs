using System.Globalization;
using System.Numerics;
using Apache.Arrow;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Testing;

/// <summary>
/// The gold tables computed independently by DuckDB window functions over the same silver rows, and a
/// cell-by-cell comparison with our batches (doubles within 1e-9 relative, nulls in the same places).
/// </summary>
public sealed class DuckDbGold : IDisposable
{
    public const double RelativeTolerance = 1e-9;

    private const string MonthlySql = """
        SELECT symbol,
               CAST(date_trunc('month', date) AS DATE) AS month,
               first(open ORDER BY date) AS open,
               max(high) AS high,
               min(low) AS low,
               last(close ORDER BY date) AS close,
               last(adj_close ORDER BY date) AS adj_close,
               CAST(sum(volume) AS BIGINT) AS volume,
               CAST(count(*) AS INTEGER) AS trading_days
        FROM silver
        GROUP BY symbol, month
        ORDER BY month
        """;

    // p = coalesce(adj_close, close), the documented price basis; count() nulls out partial windows.
    private const string MetricsSql = """
        WITH base AS (
            SELECT symbol, date, close, adj_close, coalesce(adj_close, close) AS p FROM silver
        ), r AS (
            SELECT *,
                   p / lag(p) OVER (ORDER BY date) - 1 AS ret,
                   ln(p / lag(p) OVER (ORDER BY date)) AS log_ret,
                   max(p) OVER (ORDER BY date ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS peak
            FROM base
        )
        SELECT symbol, date, close, adj_close,
               ret AS "return",
               log_ret AS log_return,
               CASE WHEN count(p) OVER w20 = 20 THEN avg(p) OVER w20 END AS sma_20,
               CASE WHEN count(p) OVER w50 = 50 THEN avg(p) OVER w50 END AS sma_50,
               CASE WHEN count(p) OVER w200 = 200 THEN avg(p) OVER w200 END AS sma_200,
               CASE WHEN count(ret) OVER w20 = 20 THEN stddev_samp(ret) OVER w20 * sqrt(252) END AS vol_20,
               p / peak - 1 AS drawdown
        FROM r
        WINDOW w20 AS (ORDER BY date ROWS BETWEEN 19 PRECEDING AND CURRENT ROW),
               w50 AS (ORDER BY date ROWS BETWEEN 49 PRECEDING AND CURRENT ROW),
               w200 AS (ORDER BY date ROWS BETWEEN 199 PRECEDING AND CURRENT ROW)
        ORDER BY date
        """;

    private readonly DuckDBConnection _connection = new("DataSource=:memory:");

    /// <summary>An in-memory DuckDB with table <c>silver</c> holding the rows of <paramref name="silver"/>.</summary>
    public DuckDbGold(RecordBatch silver)
    {
        _connection.Open();
        using (var create = _connection.CreateCommand())
        {
            create.CommandText = """
                CREATE TABLE silver (symbol VARCHAR, date DATE, open DOUBLE, high DOUBLE, low DOUBLE,
                                     close DOUBLE, adj_close DOUBLE, volume BIGINT)
                """;
            create.ExecuteNonQuery();
        }
        using var appender = _connection.CreateAppender("silver");
        foreach (var b in PriceBarBatches.ToBars(silver))
        {
            var row = appender.CreateRow()
                .AppendValue(b.Symbol)
                .AppendValue(b.Date.ToDateTime(TimeOnly.MinValue))
                .AppendValue(b.Open)
                .AppendValue(b.High)
                .AppendValue(b.Low)
                .AppendValue(b.Close);
            row = b.AdjClose is { } adj ? row.AppendValue(adj) : row.AppendNullValue();
            row.AppendValue(b.Volume).EndRow();
        }
    }

    private DuckDbGold() => _connection.Open();

    public void Dispose() => _connection.Dispose();

    /// <summary>Runs <paramref name="sql"/> on an empty in-memory DuckDB (e.g. over <c>read_parquet</c> of files on disk).</summary>
    public static List<Dictionary<string, object?>> Run(string sql)
    {
        using var duck = new DuckDbGold();
        return duck.Query(sql);
    }

    public List<Dictionary<string, object?>> Monthly() => Query(MonthlySql);

    public List<Dictionary<string, object?>> Metrics() => Query(MetricsSql);

    /// <summary>
    /// Every cell of <paramref name="ours"/> against DuckDB's row of the same index and column name; returns
    /// the number of non-null double cells compared (so a test can show the check was not vacuous) and the
    /// largest relative difference seen.
    /// </summary>
    public static (int Compared, double Worst) AssertSame(RecordBatch ours, List<Dictionary<string, object?>> duck)
    {
        Assert.Equal(duck.Count, ours.Length);
        var compared = 0;
        var worst = 0.0;
        for (var c = 0; c < ours.Schema.FieldsList.Count; c++)
        {
            var name = ours.Schema.FieldsList[c].Name;
            var column = ours.Column(c);
            for (var i = 0; i < ours.Length; i++)
            {
                var theirs = duck[i][name];
                var where = $"row {i} column {name}";
                if (column.IsNull(i) || theirs is null)
                {
                    Assert.True(column.IsNull(i) && theirs is null, $"{where}: ours {Cell(column, i) ?? "null"}, DuckDB {theirs ?? "null"}");
                    continue;
                }
                switch (column)
                {
                    case DoubleArray d:
                        worst = Math.Max(worst, AssertClose((double)theirs, d.GetValue(i)!.Value, where));
                        compared++;
                        break;
                    case Date32Array d:
                        Assert.Equal((DateOnly)theirs, d.GetDateOnly(i)!.Value);
                        break;
                    case Int64Array l:
                        Assert.Equal((long)theirs, l.GetValue(i)!.Value);
                        break;
                    case Int32Array n:
                        Assert.Equal((long)theirs, n.GetValue(i)!.Value);
                        break;
                    case StringArray s:
                        Assert.Equal((string)theirs, s.GetString(i));
                        break;
                    default:
                        throw new NotSupportedException($"{where}: {column.Data.DataType.Name}");
                }
            }
        }
        return (compared, worst);
    }

    /// <summary>Checks the relative difference and returns it (0 for identical values).</summary>
    public static double AssertClose(double expected, double actual, string where)
    {
        if (expected.Equals(actual))
        {
            return 0;
        }
        var relative = Math.Abs(expected - actual) / Math.Max(Math.Abs(expected), Math.Abs(actual));
        Assert.True(relative <= RelativeTolerance, $"{where}: expected {expected:R}, got {actual:R} (relative {relative:E2})");
        return relative;
    }

    private static object? Cell(IArrowArray column, int i) => column.IsNull(i) ? null : column switch
    {
        DoubleArray d => d.GetValue(i),
        _ => "(value)",
    };

    private List<Dictionary<string, object?>> Query(string sql)
    {
        using var cmd = _connection.CreateCommand();
        cmd.CommandText = sql;
        using var reader = cmd.ExecuteReader();
        var rows = new List<Dictionary<string, object?>>();
        while (reader.Read())
        {
            var row = new Dictionary<string, object?>(StringComparer.Ordinal);
            for (var c = 0; c < reader.FieldCount; c++)
            {
                row[reader.GetName(c)] = reader.IsDBNull(c) ? null : Normalize(reader.GetValue(c));
            }
            rows.Add(row);
        }
        return rows;
    }

    // DuckDB.NET hands DATE back as DateTime (or DateOnly) and integers at their SQL width.
    private static object Normalize(object value) => value switch
    {
        DateTime dt => DateOnly.FromDateTime(dt),
        DateOnly d => d,
        int n => (long)n,
        long l => l,
        BigInteger b => (long)b,
        double d => d,
        string s => s,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture)!,
    };
}
