using System.Globalization;
using Apache.Arrow;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// An order-independent checksum of rows of any table schema: each row's values (every column, lineage included;
/// doubles bit-exact, a null distinct from every value) mixed into 64 bits, and the mixes summed. Two sides agree
/// only when they hold the same rows (as a multiset) with the same values, however each orders or splits them into
/// files; sums of parts add up, so a table's checksum is the sum of its symbols'. Deterministic across runs and
/// processes, so printed values compare. The legacy migration's <c>ValueChecksum</c> is the same idea over the bar
/// columns only (Ingestion cannot be referenced from here).
/// </summary>
internal sealed class RowChecksum
{
    private const ulong NullValue = 0x9E3779B97F4A7C15UL;
    private const ulong FnvOffset = 0xCBF29CE484222325UL;
    private const ulong FnvPrime = 0x100000001B3UL;

    public long Rows { get; private set; }

    public ulong Sum { get; private set; }

    public string Hex => Format(Sum);

    public static string Format(ulong sum) => sum.ToString("x16", CultureInfo.InvariantCulture);

    /// <summary>Adds every row of <paramref name="batch"/> (columns in the table's order: both sides must use the same schema).</summary>
    public void Add(RecordBatch batch)
    {
        var n = batch.Length;
        if (n == 0)
        {
            return;
        }
        var rows = new ulong[n];
        for (var c = 0; c < batch.ColumnCount; c++)
        {
            var salt = Mix((ulong)(c + 1) * 0xD6E8FEB86659FD93UL);
            var column = batch.Column(c);
            for (var r = 0; r < n; r++)
            {
                rows[r] = Mix(rows[r] ^ salt ^ (column.IsNull(r) ? NullValue : ValueOf(column, r)));
            }
        }
        ulong sum = 0;
        foreach (var x in rows)
        {
            sum = unchecked(sum + x);
        }
        Sum = unchecked(Sum + sum);
        Rows += n;
    }

    public void Add(RowChecksum other)
    {
        Sum = unchecked(Sum + other.Sum);
        Rows += other.Rows;
    }

    private static ulong ValueOf(IArrowArray column, int r) => column switch
    {
        StringArray s => Fnv(s.GetBytes(r)),
        Date32Array d => (ulong)(uint)d.Values[r],
        DoubleArray d => BitConverter.DoubleToUInt64Bits(d.Values[r]),
        Int64Array l => (ulong)l.Values[r],
        Int32Array i => (ulong)(uint)i.Values[r] | (1UL << 40),
        TimestampArray t => (ulong)t.Values[r] ^ (1UL << 63),
        _ => throw new NotSupportedException($"{column.Data.DataType.Name} is not a table type"),
    };

    private static ulong Fnv(ReadOnlySpan<byte> bytes)
    {
        var h = FnvOffset;
        foreach (var b in bytes)
        {
            h = unchecked((h ^ b) * FnvPrime);
        }
        return Mix(h ^ (ulong)bytes.Length);
    }

    // splitmix64's finaliser: every input bit moves about half the output bits.
    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
