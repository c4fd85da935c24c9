using System.Buffers;
using System.Globalization;
using System.Text;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Ingestion.Gold.Internal;

namespace Lakehouse.Flight.Ingestion.Gold;

/// <summary>
/// The per-symbol daily report, <c>gold/reports/{symbol}_daily_report.csv</c> (the prototype's
/// <c>export_csv</c>): one line per trading day with the bar and its metrics.
/// </summary>
/// <remarks>
/// Columns: <c>symbol,date,open,high,low,close,adj_close,volume,return,log_return,sma_20,sma_50,sma_200,vol_20,drawdown</c>.
/// Text is culture-invariant: ISO dates (<c>2024-01-02</c>), doubles in their shortest round-trip form
/// (parsing a cell gives back the exact double), an empty cell for null, <c>\n</c> line ends on every OS
/// (pandas, DuckDB and Excel all read them). No cell needs quoting: symbols are letters, digits and
/// <c>. - ^ =</c>.
/// </remarks>
public static class DailyReport
{
    /// <summary>The report's first line: a file contract, so written out; it names the silver and metric columns below.</summary>
    public const string Header = "symbol,date,open,high,low,close,adj_close,volume,return,log_return,sma_20,sma_50,sma_200,vol_20,drawdown";

    /// <summary>
    /// The report's file name: <c>{symbol}_daily_report.csv</c> with the symbol normalised (upper-cased,
    /// checked against the symbol rules, so no name can leave the reports folder) and then escaped the way
    /// Hive partition folders are (<see cref="HivePath.Escape"/>), so one symbol has the same spelling in
    /// every path of the lake: <c>^GSPC</c> gives <c>%5EGSPC_daily_report.csv</c>, <c>EURUSD=X</c> gives
    /// <c>EURUSD%3DX_daily_report.csv</c>. <see cref="HivePath.Unescape"/> of the part before
    /// <c>_daily_report.csv</c> gives the symbol back.
    /// </summary>
    public static string FileName(string symbol) => HivePath.Escape(Symbols.Normalize(symbol)) + "_daily_report.csv";

    /// <summary>The report of one symbol's silver rows, computing the metrics.</summary>
    public static string Csv(RecordBatch silver) => Csv(silver, GoldCalculator.DailyMetrics(silver));

    /// <summary>The report of one symbol's silver rows and the metrics computed from them (row for row).</summary>
    public static string Csv(RecordBatch silver, RecordBatch metrics) => Encoding.UTF8.GetString(Utf8(silver, metrics));

    /// <summary>
    /// Writes the report, header first. The metrics must be <see cref="GoldCalculator.DailyMetrics(RecordBatch)"/> of
    /// the same rows: same length, same dates.
    /// </summary>
    public static void Write(TextWriter writer, RecordBatch silver, RecordBatch metrics)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.Write(Csv(silver, metrics));
    }

    /// <summary>
    /// The report's bytes (UTF-8), formatted straight into bytes: a correction rewrites its symbol's whole report
    /// (~5,000 lines for 20 years), and formatting through text and then encoding it cost a third more.
    /// </summary>
    public static byte[] Utf8(RecordBatch silver, RecordBatch metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var input = SilverInput.Read(silver, "silver batch");
        var open = input.Column(PriceColumns.Open);
        var high = input.Column(PriceColumns.High);
        var low = input.Column(PriceColumns.Low);
        var close = input.Column(PriceColumns.Close);
        var adj = input.Column(PriceColumns.AdjClose);
        var volume = input.Column(PriceColumns.Volume);
        var metricDates = SilverInput.Column(metrics, DailyMetricsColumns.Date, "metrics batch");
        var metricArrays = DailyMetricsColumns.Metrics.Select(c => c.Of(metrics)).ToArray();
        if (metrics.Length != input.Length || !metricDates.Values.SequenceEqual(input.Date.Values))
        {
            throw new ArgumentException(
                $"metrics batch ({metrics.Length} rows) does not match the silver batch ({input.Length} rows) date for date; compute it with GoldCalculator.DailyMetrics(silver)",
                nameof(metrics));
        }

        var symbol = Encoding.UTF8.GetBytes(input.Symbol + ",");
        var buffer = new ArrayBufferWriter<byte>(Header.Length + 1 + (input.Length * 200));
        Encoding.UTF8.GetBytes(Header + "\n", buffer);
        var dates = input.Date.Values;
        for (var i = 0; i < input.Length; i++)
        {
            // A line is at most the symbol and 15 cells of <= 32 bytes each.
            var line = buffer.GetSpan(symbol.Length + (15 * 33) + 1);
            symbol.CopyTo(line);
            var n = symbol.Length;
            SilverInput.DateAt(dates[i]).TryFormat(line[n..], out var written, "yyyy-MM-dd", CultureInfo.InvariantCulture);
            n += written;
            n += Cell(line[n..], open, i);
            n += Cell(line[n..], high, i);
            n += Cell(line[n..], low, i);
            n += Cell(line[n..], close, i);
            n += Cell(line[n..], adj, i);
            line[n++] = (byte)',';
            volume.Values[i].TryFormat(line[n..], out written, default, CultureInfo.InvariantCulture);
            n += written;
            foreach (var metric in metricArrays)
            {
                n += Cell(line[n..], metric, i);
            }
            line[n++] = (byte)'\n';
            buffer.Advance(n);
        }
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>A comma and the value (empty for null); returns the bytes written.</summary>
    private static int Cell(Span<byte> line, DoubleArray array, int index)
    {
        line[0] = (byte)',';
        if (!array.IsValid(index))
        {
            return 1;
        }
        // "R" is the shortest text that parses back to the same double.
        array.Values[index].TryFormat(line[1..], out var written, "R", CultureInfo.InvariantCulture);
        return written + 1;
    }
}
