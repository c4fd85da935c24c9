using System.Text.Json.Serialization;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// One immutable data file of a table, as the commit log records it: its name (the same in the table's folder and
/// in the file store), the band of dates it lies in, its source for per-source tables, and the statistics a plan
/// prunes with. A file is written once and never changed; a commit that changes its rows adds a new file and
/// removes this one.
/// </summary>
internal sealed record DataFile
{
    /// <summary>File name, e.g. <c>2024-6f1c0d2e9a7b4c3d.parquet</c> (<c>&lt;band&gt;[-&lt;source&gt;]-&lt;id&gt;.parquet</c>).</summary>
    [JsonPropertyName("name")] public required string Name { get; init; }

    /// <summary>The source of every row (per-source tables), else null.</summary>
    [JsonPropertyName("source")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public string? Source { get; init; }

    /// <summary>First year of the band the file's dates lie in (0: the table has one band).</summary>
    [JsonPropertyName("band")] public int Band { get; init; }

    [JsonPropertyName("rows")] public long Rows { get; init; }

    [JsonPropertyName("bytes")] public long Bytes { get; init; }

    [JsonPropertyName("min_symbol")] public required string MinSymbol { get; init; }

    [JsonPropertyName("max_symbol")] public required string MaxSymbol { get; init; }

    /// <summary>Smallest date, days after 1970-01-01.</summary>
    [JsonPropertyName("min_day")] public int MinDay { get; init; }

    [JsonPropertyName("max_day")] public int MaxDay { get; init; }

    /// <summary>Distinct symbols in the file.</summary>
    [JsonPropertyName("symbols")] public int Symbols { get; init; }

    public override string ToString() => Name;
}

/// <summary>Where a symbol's rows are in one file: rows [Start, Start + Count), dates MinDay..MaxDay (rows sorted by key).</summary>
internal readonly record struct FileRun(DataFile File, int Start, int Count, int MinDay, int MaxDay)
{
    public bool Overlaps(int? from, int? to) => (from is not { } f || MaxDay >= f) && (to is not { } t || MinDay <= t);
}

/// <summary>
/// The symbols of one data file in file order, each with its row range and date span (and, for a table with
/// <see cref="TableDefinition.SummaryColumns"/>, the highest value and null count of each of them), and the file's
/// row-group boundaries: written into the file's footer (key-value metadata) when the file is encoded, read back once
/// per file and shared by every state that holds the file (files never change).
/// </summary>
internal sealed class SymbolDirectory
{
    public const string MetadataKey = "lakehouse.symbols";

    /// <summary>
    /// Footer key of the packed directory (<see cref="EncodePacked"/>), written since 2026-12-07 in place of the text
    /// one: the text took ~44 bytes a symbol and the footer holds it twice (as a key and inside the Arrow schema), so a
    /// daily append's 500-row file carried 51 KB of directory beside 13 KB of data.
    /// </summary>
    public const string PackedKey = "lakehouse.symbols.z";

    /// <summary>Footer key naming the summarized columns, comma-separated, in the order of their fields on each line.</summary>
    public const string SummaryKey = "lakehouse.summary";

    public SymbolDirectory(string[] symbols, int[] starts, int[] counts, int[] minDays, int[] maxDays, int[] rowGroupStarts,
        ColumnSummary[]? summaries = null)
    {
        Symbols = symbols;
        Starts = starts;
        Counts = counts;
        MinDays = minDays;
        MaxDays = maxDays;
        RowGroupStarts = rowGroupStarts;
        Summaries = summaries ?? [];
    }

    public string[] Symbols { get; }

    public int[] Starts { get; }

    public int[] Counts { get; }

    public int[] MinDays { get; }

    public int[] MaxDays { get; }

    /// <summary>First row of each row group, plus the total row count last.</summary>
    public int[] RowGroupStarts { get; }

    /// <summary>Per summarized column, per symbol: its highest value and null count (empty: the file has none, e.g. written before).</summary>
    public ColumnSummary[] Summaries { get; }

    public int Rows => RowGroupStarts.Length == 0 ? 0 : RowGroupStarts[^1];

    public int IndexOf(string symbol) => Array.BinarySearch(Symbols, symbol, StringComparer.Ordinal);

    /// <summary>The summary of <paramref name="column"/>, or null when the file has none.</summary>
    public ColumnSummary? SummaryOf(string column) => Array.Find(Summaries, s => s.Column == column);

    /// <summary>Row groups holding rows [start, start + count).</summary>
    public (int First, int End) RowGroupsOf(int start, int count)
    {
        var first = Array.BinarySearch(RowGroupStarts, start);
        first = first >= 0 ? first : ~first - 1;
        var last = Array.BinarySearch(RowGroupStarts, start + count - 1);
        last = last >= 0 ? last : ~last - 1;
        return (Math.Max(0, first), Math.Min(RowGroupStarts.Length - 1, last + 1));
    }

    /// <summary>The summarized columns' names as the <see cref="SummaryKey"/> footer value (null when none).</summary>
    public string? EncodeSummaryColumns() => Summaries.Length == 0 ? null : string.Join(',', Summaries.Select(s => s.Column));

    /// <summary>
    /// The directory as footer text: <c>SYMBOL start count minDay maxDay</c> per line (symbols hold no spaces), then
    /// <c>max nulls</c> per summarized column (<c>-Infinity</c> when every value is null).
    /// </summary>
    public string Encode()
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder(Symbols.Length * (32 + (24 * Summaries.Length)));
        for (var i = 0; i < Symbols.Length; i++)
        {
            sb.Append(Symbols[i]).Append(' ').Append(Starts[i]).Append(' ').Append(Counts[i]).Append(' ')
                .Append(MinDays[i]).Append(' ').Append(MaxDays[i]);
            foreach (var summary in Summaries)
            {
                sb.Append(' ').Append(summary.Max[i].ToString("R", culture)).Append(' ').Append(summary.Nulls[i]);
            }
            sb.Append('\n');
        }
        return sb.ToString();
    }

    /// <summary>
    /// The directory packed for the footer: base64 of deflated bytes laid out column by column (names with the prefix
    /// they share with the previous one cut, row counts, first days as deltas, day spans, then each summarized column's
    /// maxima as raw doubles and null counts), so a day's file of thousands of symbols with one row each packs to a few
    /// bytes per symbol. Null when the runs do not tile the rows from 0 (starts are not stored; every file written by
    /// the lake tiles them).
    /// </summary>
    public string? EncodePacked()
    {
        var next = 0;
        for (var i = 0; i < Symbols.Length; i++)
        {
            if (Starts[i] != next)
            {
                return null;
            }
            next += Counts[i];
        }
        using var raw = new MemoryStream();
        using (var deflate = new System.IO.Compression.DeflateStream(raw, System.IO.Compression.CompressionLevel.Optimal, leaveOpen: true))
        using (var w = new BinaryWriter(deflate, System.Text.Encoding.UTF8, leaveOpen: true))
        {
            w.Write((byte)1);
            w.Write7BitEncodedInt(Symbols.Length);
            var previous = "";
            foreach (var symbol in Symbols)
            {
                var shared = 0;
                while (shared < previous.Length && shared < symbol.Length && previous[shared] == symbol[shared])
                {
                    shared++;
                }
                w.Write7BitEncodedInt(shared);
                w.Write(symbol[shared..]);
                previous = symbol;
            }
            foreach (var count in Counts)
            {
                w.Write7BitEncodedInt(count);
            }
            var day = 0;
            foreach (var min in MinDays)
            {
                w.Write7BitEncodedInt(ZigZag(min - day));
                day = min;
            }
            for (var i = 0; i < Symbols.Length; i++)
            {
                w.Write7BitEncodedInt(MaxDays[i] - MinDays[i]);
            }
            foreach (var summary in Summaries)
            {
                foreach (var max in summary.Max)
                {
                    w.Write(max);
                }
                foreach (var nulls in summary.Nulls)
                {
                    w.Write7BitEncodedInt(nulls);
                }
            }
        }
        return Convert.ToBase64String(raw.GetBuffer(), 0, (int)raw.Length);
    }

    /// <summary>A directory from its packed footer value (<see cref="EncodePacked"/>).</summary>
    /// <exception cref="InvalidDataException">The value is not a packed directory of this version.</exception>
    public static SymbolDirectory DecodePacked(string packed, int[] rowGroupStarts, string? summaryColumns = null)
    {
        var columns = string.IsNullOrEmpty(summaryColumns) ? [] : summaryColumns.Split(',');
        try
        {
            using var deflate = new System.IO.Compression.DeflateStream(new MemoryStream(Convert.FromBase64String(packed)),
                System.IO.Compression.CompressionMode.Decompress);
            using var r = new BinaryReader(deflate, System.Text.Encoding.UTF8);
            if (r.ReadByte() != 1)
            {
                throw new InvalidDataException("a data file's symbol directory is of an unknown version");
            }
            var n = r.Read7BitEncodedInt();
            var symbols = new string[n];
            var previous = "";
            for (var i = 0; i < n; i++)
            {
                var shared = r.Read7BitEncodedInt();
                previous = symbols[i] = string.Intern(string.Concat(previous.AsSpan(0, shared), r.ReadString()));
            }
            var starts = new int[n];
            var counts = new int[n];
            for (int i = 0, next = 0; i < n; i++)
            {
                counts[i] = r.Read7BitEncodedInt();
                starts[i] = next;
                next += counts[i];
            }
            var min = new int[n];
            for (int i = 0, day = 0; i < n; i++)
            {
                min[i] = day += UnZigZag(r.Read7BitEncodedInt());
            }
            var max = new int[n];
            for (var i = 0; i < n; i++)
            {
                max[i] = min[i] + r.Read7BitEncodedInt();
            }
            var summaries = columns.Select(c => new ColumnSummary(c, new double[n], new int[n])).ToArray();
            foreach (var summary in summaries)
            {
                for (var i = 0; i < n; i++)
                {
                    summary.Max[i] = r.ReadDouble();
                }
                for (var i = 0; i < n; i++)
                {
                    summary.Nulls[i] = r.Read7BitEncodedInt();
                }
            }
            return new SymbolDirectory(symbols, starts, counts, min, max, rowGroupStarts, summaries);
        }
        catch (Exception e) when (e is IOException or FormatException)
        {
            throw new InvalidDataException("a data file's symbol directory is damaged", e);
        }
    }

    private static int ZigZag(int v) => (v << 1) ^ (v >> 31);

    private static int UnZigZag(int v) => (int)((uint)v >> 1) ^ -(v & 1);

    /// <summary>A directory from footer text; <paramref name="summaryColumns"/> is the <see cref="SummaryKey"/> value (null: none).</summary>
    /// <exception cref="InvalidDataException">A line that does not have the fields the footer announces.</exception>
    public static SymbolDirectory Decode(string text, int[] rowGroupStarts, string? summaryColumns = null)
    {
        var culture = System.Globalization.CultureInfo.InvariantCulture;
        var columns = string.IsNullOrEmpty(summaryColumns) ? [] : summaryColumns.Split(',');
        var lines = text.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var symbols = new string[lines.Length];
        var starts = new int[lines.Length];
        var counts = new int[lines.Length];
        var min = new int[lines.Length];
        var max = new int[lines.Length];
        var summaries = columns.Select(c => new ColumnSummary(c, new double[lines.Length], new int[lines.Length])).ToArray();
        for (var i = 0; i < lines.Length; i++)
        {
            var parts = lines[i].Split(' ');
            if (parts.Length != 5 + (2 * columns.Length))
            {
                throw new InvalidDataException("a data file's symbol directory is damaged");
            }
            symbols[i] = string.Intern(parts[0]);
            starts[i] = int.Parse(parts[1], culture);
            counts[i] = int.Parse(parts[2], culture);
            min[i] = int.Parse(parts[3], culture);
            max[i] = int.Parse(parts[4], culture);
            for (var c = 0; c < summaries.Length; c++)
            {
                summaries[c].Max[i] = double.Parse(parts[5 + (2 * c)], System.Globalization.NumberStyles.Float, culture);
                summaries[c].Nulls[i] = int.Parse(parts[6 + (2 * c)], culture);
            }
        }
        return new SymbolDirectory(symbols, starts, counts, min, max, rowGroupStarts, summaries);
    }
}

/// <summary>One float64 column's highest value (over non-null rows; -infinity when none) and null count, per symbol of a file.</summary>
internal sealed record ColumnSummary(string Column, double[] Max, int[] Nulls);
