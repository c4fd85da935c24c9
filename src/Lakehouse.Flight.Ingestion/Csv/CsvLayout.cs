namespace Lakehouse.Flight.Ingestion.Csv;

/// <summary>The three file shapes the CSV source reads.</summary>
internal enum CsvFormat
{
    Yahoo,
    Stooq,
    StooqBulk,
}

/// <summary>
/// Where each value sits in a file, found from its header. Columns are matched by name
/// (case-insensitive, trimmed, BOM tolerated) in any order, so a re-ordered export still reads; a header
/// with missing, unknown or repeated columns is refused rather than guessed at.
/// </summary>
internal sealed class CsvLayout
{
    public const string AcceptedHeaders =
        "'Date,Open,High,Low,Close,Adj Close,Volume' (Yahoo; 'adj_close' or 'AdjClose' also accepted), "
        + "'Date,Open,High,Low,Close,Volume' (Stooq) or "
        + "'<TICKER>,<PER>,<DATE>,<TIME>,<OPEN>,<HIGH>,<LOW>,<CLOSE>,<VOL>,<OPENINT>' (Stooq bulk)";

    private static readonly string[] BulkColumns = ["<ticker>", "<per>", "<date>", "<time>", "<open>", "<high>", "<low>", "<close>", "<vol>", "<openint>"];

    private CsvLayout(CsvFormat format, int fieldCount)
    {
        Format = format;
        FieldCount = fieldCount;
    }

    public CsvFormat Format { get; }

    public int FieldCount { get; }

    public int Date { get; private init; }

    public int Open { get; private init; }

    public int High { get; private init; }

    public int Low { get; private init; }

    public int Close { get; private init; }

    /// <summary>-1 when the file has no adjusted close (Stooq).</summary>
    public int AdjClose { get; private init; } = -1;

    public int Volume { get; private init; }

    /// <summary>-1 unless Stooq bulk.</summary>
    public int Ticker { get; private init; } = -1;

    /// <summary>-1 unless Stooq bulk.</summary>
    public int Period { get; private init; } = -1;

    /// <summary>Stooq bulk dates are <c>yyyyMMdd</c>; the others ISO.</summary>
    public string DateFormat => Format == CsvFormat.StooqBulk ? "yyyyMMdd" : "yyyy-MM-dd";

    public static bool TryDetect(IReadOnlyList<string> header, out CsvLayout? layout, out string error)
    {
        layout = null;
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < header.Count; i++)
        {
            var name = NormalizeName(header[i]);
            if (name is "adj close" or "adj_close" or "adjclose")
            {
                name = "adj close";
            }
            if (!index.TryAdd(name, i))
            {
                error = $"column '{header[i].Trim()}' appears twice in the header; accepted headers are {AcceptedHeaders}";
                return false;
            }
        }

        if (index.Count == BulkColumns.Length && BulkColumns.All(index.ContainsKey))
        {
            layout = new CsvLayout(CsvFormat.StooqBulk, header.Count)
            {
                Ticker = index["<ticker>"],
                Period = index["<per>"],
                Date = index["<date>"],
                Open = index["<open>"],
                High = index["<high>"],
                Low = index["<low>"],
                Close = index["<close>"],
                Volume = index["<vol>"],
            };
            error = string.Empty;
            return true;
        }

        string[] required = ["date", "open", "high", "low", "close", "volume"];
        var hasAdj = index.ContainsKey("adj close");
        if (required.All(index.ContainsKey) && index.Count == required.Length + (hasAdj ? 1 : 0))
        {
            layout = new CsvLayout(hasAdj ? CsvFormat.Yahoo : CsvFormat.Stooq, header.Count)
            {
                Date = index["date"],
                Open = index["open"],
                High = index["high"],
                Low = index["low"],
                Close = index["close"],
                AdjClose = hasAdj ? index["adj close"] : -1,
                Volume = index["volume"],
            };
            error = string.Empty;
            return true;
        }

        error = $"header '{string.Join(',', header.Select(h => h.Trim().TrimStart('\uFEFF')))}' is not a known price file; accepted headers are {AcceptedHeaders}";
        return false;
    }

    // A BOM survives when the text decoder did not strip it (a second BOM, or UTF-16 read as UTF-8).
    private static string NormalizeName(string name) => name.Trim().TrimStart('\uFEFF').Trim().ToLowerInvariant();
}
