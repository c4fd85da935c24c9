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
        // Inflated at once into one buffer and read from it (a start decodes thousands of these on all cores: through a
        // BinaryReader over the DeflateStream every varint was a virtual call per byte, half of the decode's time). What
        // BinaryWriter wrote: bytes, 7-bit varints, strings as a byte length and UTF-8, doubles little-endian. Reading past
        // the end throws (index or slice out of range): the directory is damaged.
        var columns = string.IsNullOrEmpty(summaryColumns) ? [] : summaryColumns.Split(',');
        byte[]? inflated = null;
        try
        {
            var length = Inflate(packed, out inflated);
            ReadOnlySpan<byte> bytes = inflated.AsSpan(0, length);
            var at = 0;
            if (bytes[at++] != 1)
            {
                throw new InvalidDataException("a data file's symbol directory is of an unknown version");
            }
            var n = Count(bytes, ref at);
            if (n > bytes.Length)
            {
                // Every symbol takes at least a byte: a count beyond that is damage, not an allocation to attempt.
                throw new FormatException("a symbol count larger than the directory");
            }
            var symbols = new string[n];
            var name = new char[64];
            var previous = 0;
            for (var i = 0; i < n; i++)
            {
                var shared = Count(bytes, ref at);
                var suffixLength = Count(bytes, ref at);
                var suffix = bytes.Slice(at, suffixLength);
                at += suffixLength;
                if (shared > previous)
                {
                    throw new InvalidDataException("a data file's symbol directory is damaged");
                }
                if (shared + suffix.Length > name.Length)
                {
                    Array.Resize(ref name, shared + suffix.Length);
                }
                // Symbols are ASCII in practice: widened in place; other text through the decoder.
                var ascii = System.Text.Ascii.IsValid(suffix);
                var chars = ascii ? suffix.Length : System.Text.Encoding.UTF8.GetChars(suffix, name.AsSpan(shared));
                if (ascii)
                {
                    for (var j = 0; j < suffix.Length; j++)
                    {
                        name[shared + j] = (char)suffix[j];
                    }
                }
                previous = shared + chars;
                symbols[i] = SymbolNames.Get(name.AsSpan(0, previous));
            }
            var starts = new int[n];
            var counts = new int[n];
            for (int i = 0, next = 0; i < n; i++)
            {
                counts[i] = Count(bytes, ref at);
                starts[i] = next;
                next += counts[i];
            }
            var min = new int[n];
            for (int i = 0, day = 0; i < n; i++)
            {
                min[i] = day += UnZigZag(Varint(bytes, ref at));
            }
            var max = new int[n];
            for (var i = 0; i < n; i++)
            {
                max[i] = min[i] + Count(bytes, ref at);
            }
            var summaries = new ColumnSummary[columns.Length];
            for (var c = 0; c < columns.Length; c++)
            {
                var summary = summaries[c] = new ColumnSummary(columns[c], new double[n], new int[n]);
                for (var i = 0; i < n; i++, at += sizeof(double))
                {
                    summary.Max[i] = System.Buffers.Binary.BinaryPrimitives.ReadDoubleLittleEndian(bytes.Slice(at, sizeof(double)));
                }
                for (var i = 0; i < n; i++)
                {
                    summary.Nulls[i] = Count(bytes, ref at);
                }
            }
            return new SymbolDirectory(symbols, starts, counts, min, max, rowGroupStarts, summaries);
        }
        catch (Exception e) when (e is IOException or FormatException or ArgumentException or IndexOutOfRangeException)
        {
            throw new InvalidDataException("a data file's symbol directory is damaged", e);
        }
        finally
        {
            if (inflated is not null)
            {
                System.Buffers.ArrayPool<byte>.Shared.Return(inflated);
            }
        }
    }

    /// <summary>A 7-bit encoded int at <paramref name="at"/> (as <see cref="BinaryReader.Read7BitEncodedInt"/>).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int Varint(ReadOnlySpan<byte> bytes, ref int at)
    {
        uint value = bytes[at++];
        if (value < 0x80)
        {
            return (int)value;
        }
        value &= 0x7F;
        for (var shift = 7; shift < 35; shift += 7)
        {
            uint b = bytes[at++];
            if (shift == 28 && b > 0x0F)
            {
                // The fifth byte holds the top 4 bits only (BinaryReader refuses the rest the same way).
                throw new FormatException("a varint larger than 32 bits");
            }
            value |= (b & 0x7F) << shift;
            if (b < 0x80)
            {
                return (int)value;
            }
        }
        throw new FormatException("a varint of more than five bytes");
    }

    /// <summary>A non-negative varint: a count, length or span.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    private static int Count(ReadOnlySpan<byte> bytes, ref int at)
    {
        var value = Varint(bytes, ref at);
        return value >= 0 ? value : throw new FormatException("a negative count");
    }

    /// <summary>Base64 then deflate into a pooled buffer (the caller returns it); the inflated length.</summary>
    private static int Inflate(string packed, out byte[] inflated)
    {
        var compressed = Convert.FromBase64String(packed);
        using var deflate = new System.IO.Compression.DeflateStream(new MemoryStream(compressed),
            System.IO.Compression.CompressionMode.Decompress);
        var pool = System.Buffers.ArrayPool<byte>.Shared;
        inflated = pool.Rent(Math.Max(4096, compressed.Length * 4));
        var length = 0;
        while (true)
        {
            if (length == inflated.Length)
            {
                var larger = pool.Rent(inflated.Length * 2);
                inflated.AsSpan(0, length).CopyTo(larger);
                pool.Return(inflated);
                inflated = larger;
            }
            var read = deflate.Read(inflated, length, inflated.Length - length);
            if (read == 0)
            {
                return length;
            }
            length += read;
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
            symbols[i] = SymbolNames.Get(parts[0]);
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
