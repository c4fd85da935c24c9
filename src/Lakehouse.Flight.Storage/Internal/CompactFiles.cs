using System.Buffers;
using System.Globalization;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>A compacted copy read back: every row of one (table, symbol) in key order, and its month table.</summary>
internal sealed class CompactCopy(RecordBatch rows, MonthRange[] months)
{
    public RecordBatch Rows { get; } = rows;

    public MonthRange[] Months { get; } = months;

    /// <summary>The month's index in <see cref="Months"/>, or -1.</summary>
    public int IndexOf(int year, int month) => MonthRange.IndexOf(Months, year, month);
}

/// <summary>
/// The file format of a compacted copy (docs/decisions.md D23): an Arrow IPC stream of the table's
/// schema, record batches of whole months (at most <see cref="BatchRows"/> rows each), the month table
/// in the schema's key-value metadata (year, month, first row, rows, and the length and write time of
/// the month file the rows came from), then a 16-byte trailer: a 64-bit checksum of everything before
/// it and a magic. Arrow, not Parquet: the copy is our cache, so it is stored in the shape the cache
/// holds, and reading it is one file read, a checksum and one copy of the buffers, no decode.
/// </summary>
internal static class CompactFiles
{
    public const string Extension = ".arrows";
    public const int BatchRows = 64 * 1024;

    private const string MonthsKey = "lakehouse.compact.months";
    private const string VersionKey = "lakehouse.compact.version";
    private const string Version = "1";
    private const int TrailerBytes = 16;
    private static ReadOnlySpan<byte> Magic => "LHCOPY01"u8;

    /// <summary>The file's bytes for <paramref name="rows"/> (key order, the table's schema) and their month table.</summary>
    public static byte[] Encode(TableDefinition table, RecordBatch rows, IReadOnlyList<MonthRange> months)
    {
        var schema = new Schema(table.Schema.FieldsList, new Dictionary<string, string>
        {
            [VersionKey] = Version,
            [MonthsKey] = FormatMonths(months),
        });
        using var ms = new MemoryStream();
        using (var writer = new ArrowStreamWriter(ms, schema, leaveOpen: true))
        {
            var start = 0;
            var m = 0;
            while (m < months.Count)
            {
                // Whole months per batch, so a reader of one batch never sees half a month.
                var end = m;
                var rowsInBatch = 0;
                while (end < months.Count && (end == m || rowsInBatch + months[end].Length <= BatchRows))
                {
                    rowsInBatch += months[end].Length;
                    end++;
                }
                var slice = rows.Slice(start, rowsInBatch);
                writer.WriteRecordBatch(new RecordBatch(schema, Enumerable.Range(0, slice.ColumnCount).Select(slice.Column), rowsInBatch));
                start += rowsInBatch;
                m = end;
            }
            writer.WriteEnd();
        }
        var body = ms.GetBuffer().AsSpan(0, (int)ms.Length);
        var result = new byte[body.Length + TrailerBytes];
        body.CopyTo(result);
        BitConverter.TryWriteBytes(result.AsSpan(body.Length, 8), Checksum(body));
        Magic.CopyTo(result.AsSpan(body.Length + 8));
        return result;
    }

    /// <summary>
    /// Reads a copy whole. Throws <see cref="InvalidDataException"/> when the file is not a whole, intact
    /// copy of this table (bad trailer or checksum, other schema, rows that disagree with the month table).
    /// <paramref name="shortLived"/>: the rows serve one read and are dropped (see <see cref="CopyOut"/>).
    /// </summary>
    public static CompactCopy Read(string path, TableDefinition table, bool shortLived = false)
    {
        // Read into a pooled buffer and copy the rows out once, into an array holding only the buffers (no
        // schema, month table or IPC framing), so what the cache accounts is what it holds.
        using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        var length = checked((int)fs.Length);
        var buffer = ArrayPool<byte>.Shared.Rent(Math.Max(length, 1));
        try
        {
            fs.ReadExactly(buffer, 0, length);
            return Parse(buffer.AsMemory(0, length), table, path, shortLived);
        }
        catch (EndOfStreamException ex)
        {
            throw new InvalidDataException($"{path}: shorter than when opened", ex);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    private static CompactCopy Parse(ReadOnlyMemory<byte> bytes, TableDefinition table, string path, bool shortLived)
    {
        var span = bytes.Span;
        if (bytes.Length < TrailerBytes || !span[^8..].SequenceEqual(Magic))
        {
            throw new InvalidDataException($"{path}: not a compacted copy (no trailer)");
        }
        var body = bytes[..^TrailerBytes];
        if (BitConverter.ToUInt64(span[^TrailerBytes..]) != Checksum(body.Span))
        {
            throw new InvalidDataException($"{path}: checksum mismatch");
        }
        try
        {
            using var reader = new ArrowStreamReader(body);
            var months = MonthsOf(reader.Schema, table, path);
            var batches = new List<RecordBatch>(1);
            while (reader.ReadNextRecordBatch() is { } batch)
            {
                batches.Add(CopyOut(batch, table.Schema, shortLived));
            }
            var expected = months.Length == 0 ? 0 : months[^1].Start + months[^1].Length;
            var rows = batches.Sum(b => (long)b.Length);
            if (batches.Count == 0 || rows != expected)
            {
                throw new InvalidDataException($"{path}: {rows} rows where the month table says {expected}");
            }
            return new CompactCopy(batches.Count == 1 ? batches[0] : ArrowConcat.ConcatenateManaged(batches), months);
        }
        catch (Exception ex) when (ex is not InvalidDataException and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: unreadable compacted copy ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }

    /// <summary>
    /// The batch with every buffer copied out of the pooled file buffer, under the table's own schema. Rows
    /// kept in the cache get one array per symbol (a few hundred KB, so on the large object heap): a cold scan
    /// loads the whole lake into long-lived entries, and per-column arrays would each be copied from
    /// generation 0 to 2 on the way (measured: 50 gen-0 collections and 0.42 s of pauses for 2.6M rows in a
    /// fresh process, against 0.17 s for the one-array layout). Short-lived rows (a read larger than the
    /// cache, decisions D32) get an array per buffer instead: below the large object threshold for any
    /// symbol of up to ~10,000 rows, so they die in generation 0 instead of waiting for a full collection.
    /// </summary>
    private static RecordBatch CopyOut(RecordBatch batch, Schema schema, bool shortLived)
    {
        var total = 0L;
        for (var c = 0; c < batch.ColumnCount; c++)
        {
            var data = batch.Column(c).Data;
            if (data.Children is { Length: > 0 } || data.Dictionary is not null)
            {
                throw new InvalidDataException($"column '{schema.FieldsList[c].Name}' is nested, which no table has");
            }
            foreach (var b in data.Buffers)
            {
                total += (b.Length + 7) & ~7L;
            }
        }
        var slab = shortLived ? [] : GC.AllocateUninitializedArray<byte>(checked((int)total));
        var offset = 0;
        var arrays = new IArrowArray[batch.ColumnCount];
        for (var c = 0; c < arrays.Length; c++)
        {
            var data = batch.Column(c).Data;
            var buffers = new ArrowBuffer[data.Buffers.Length];
            for (var i = 0; i < buffers.Length; i++)
            {
                var source = data.Buffers[i].Span;
                if (source.IsEmpty)
                {
                    buffers[i] = ArrowBuffer.Empty;
                    continue;
                }
                if (shortLived)
                {
                    var own = GC.AllocateUninitializedArray<byte>(source.Length);
                    source.CopyTo(own);
                    buffers[i] = new ArrowBuffer(own);
                    continue;
                }
                source.CopyTo(slab.AsSpan(offset));
                buffers[i] = new ArrowBuffer(slab.AsMemory(offset, source.Length));
                offset += (source.Length + 7) & ~7;
            }
            arrays[c] = ArrowArrayFactory.BuildArray(new ArrayData(data.DataType, data.Length, data.NullCount, data.Offset, buffers));
        }
        return new RecordBatch(schema, arrays, batch.Length);
    }

    /// <summary>The month table alone (the schema message at the file's start); enough to tell whether a copy is current.</summary>
    public static MonthRange[] ReadMonths(string path, TableDefinition table)
    {
        try
        {
            using var fs = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 16 * 1024);
            using var reader = new ArrowStreamReader(fs, leaveOpen: true);
            return MonthsOf(reader.Schema, table, path);
        }
        catch (Exception ex) when (ex is not InvalidDataException and not FileNotFoundException and not DirectoryNotFoundException
            and not OutOfMemoryException)
        {
            throw new InvalidDataException($"{path}: unreadable compacted copy ({ex.GetType().Name}: {ex.Message})", ex);
        }
    }

    private static MonthRange[] MonthsOf(Schema schema, TableDefinition table, string path)
    {
        if (schema.Metadata is not { } meta || !meta.TryGetValue(VersionKey, out var version) || version != Version
            || !meta.TryGetValue(MonthsKey, out var text))
        {
            throw new InvalidDataException($"{path}: no month table of version {Version}");
        }
        var want = table.Schema.FieldsList;
        var have = schema.FieldsList;
        if (want.Count != have.Count || Enumerable.Range(0, want.Count).Any(i =>
                want[i].Name != have[i].Name || want[i].DataType.TypeId != have[i].DataType.TypeId || want[i].IsNullable != have[i].IsNullable))
        {
            throw new InvalidDataException($"{path}: the copy's schema is not the table's (the table changed since it was built)");
        }
        return ParseMonths(text, path);
    }

    /// <summary><c>year,month,start,length,fileLength,fileTicks;</c> per month, in key order.</summary>
    private static string FormatMonths(IReadOnlyList<MonthRange> months)
    {
        var sb = new StringBuilder(months.Count * 40);
        foreach (var m in months)
        {
            sb.Append(CultureInfo.InvariantCulture, $"{m.Year},{m.Month},{m.Start},{m.Length},{m.Stamp.Length},{m.Stamp.LastWriteUtc.Ticks};");
        }
        return sb.ToString();
    }

    private static MonthRange[] ParseMonths(string text, string path)
    {
        var result = new List<MonthRange>(text.Length / 40);
        var span = text.AsSpan();
        var next = 0;
        Span<long> f = stackalloc long[6];
        while (!span.IsEmpty)
        {
            var end = span.IndexOf(';');
            if (end < 0)
            {
                throw new InvalidDataException($"{path}: torn month table");
            }
            var entry = span[..end];
            for (var i = 0; i < 6; i++)
            {
                var comma = i < 5 ? entry.IndexOf(',') : entry.Length;
                if (comma < 0 || !long.TryParse(entry[..comma], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out f[i]))
                {
                    throw new InvalidDataException($"{path}: bad month table entry '{entry}'");
                }
                entry = i < 5 ? entry[(comma + 1)..] : [];
            }
            var month = new MonthRange((int)f[0], (int)f[1], (int)f[2], (int)f[3], new FileStamp(f[4], new DateTime(f[5], DateTimeKind.Utc)));
            if (month.Start != next || month.Length < 0
                || (result.Count > 0 && (result[^1].Year, result[^1].Month).CompareTo((month.Year, month.Month)) >= 0))
            {
                throw new InvalidDataException($"{path}: month table out of order");
            }
            next += month.Length;
            result.Add(month);
            span = span[(end + 1)..];
        }
        return result.ToArray();
    }

    /// <summary>
    /// A 64-bit checksum (xxHash64's round and avalanche, four lanes): catches a damaged or foreign file
    /// at a few GB/s. Not a security measure: the copy is only ever written by this process's code.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    internal static ulong Checksum(ReadOnlySpan<byte> data)
    {
        const ulong P1 = 11400714785074694791UL, P2 = 14029467366897019727UL, P3 = 1609587929392839161UL,
            P4 = 9650029242287828579UL, P5 = 2870177450012600261UL;
        var words = MemoryMarshal.Cast<byte, ulong>(data);
        ulong v1 = unchecked(P1 + P2), v2 = P2, v3 = 0, v4 = unchecked(0 - P1);
        var i = 0;
        for (; i + 4 <= words.Length; i += 4)
        {
            v1 = Round(v1, words[i]);
            v2 = Round(v2, words[i + 1]);
            v3 = Round(v3, words[i + 2]);
            v4 = Round(v4, words[i + 3]);
        }
        var h = BitOperations.RotateLeft(v1, 1) + BitOperations.RotateLeft(v2, 7) + BitOperations.RotateLeft(v3, 12) + BitOperations.RotateLeft(v4, 18);
        h += (ulong)data.Length;
        for (; i < words.Length; i++)
        {
            h ^= Round(0, words[i]);
            h = (BitOperations.RotateLeft(h, 27) * P1) + P4;
        }
        for (var b = words.Length * 8; b < data.Length; b++)
        {
            h ^= data[b] * P5;
            h = BitOperations.RotateLeft(h, 11) * P1;
        }
        h ^= h >> 33;
        h *= P2;
        h ^= h >> 29;
        h *= P3;
        h ^= h >> 32;
        return h;

        static ulong Round(ulong acc, ulong input) => BitOperations.RotateLeft(acc + (input * P2), 31) * P1;
    }
}
