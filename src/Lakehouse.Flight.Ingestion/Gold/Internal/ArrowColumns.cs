using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Apache.Arrow;

namespace Lakehouse.Flight.Ingestion.Gold.Internal;

/// <summary>
/// Output columns written straight into their Arrow buffers: values are computed into a byte[] seen as a
/// typed span, then wrapped without a copy (no per-value builder calls).
/// </summary>
internal static class ArrowColumns
{
    /// <summary><see cref="DateOnly.DayNumber"/> of 1970-01-01, day 0 of date32.</summary>
    public static readonly int UnixEpochDayNumber = new DateOnly(1970, 1, 1).DayNumber;

    public static byte[] Buffer<T>(int length)
        where T : unmanaged => new byte[length * Unsafe.SizeOf<T>()];

    public static Span<T> Span<T>(byte[] buffer)
        where T : unmanaged => MemoryMarshal.Cast<byte, T>(buffer.AsSpan());

    /// <summary>A validity bitmap (bit set = valid); null when every value is valid, as Arrow allows.</summary>
    public sealed class Validity
    {
        private readonly byte[] _bits;

        public Validity(int length) => _bits = new byte[(length + 7) / 8];

        public int NullCount { get; private set; }

        public void Set(int index, bool valid)
        {
            if (valid)
            {
                BitUtility.SetBit(_bits, index);
            }
            else
            {
                NullCount++;
            }
        }

        /// <summary>Nulls in the first <paramref name="nullPrefix"/> rows, values after: a window filling up.</summary>
        public static Validity Prefix(int length, int nullPrefix)
        {
            var v = new Validity(length);
            var nulls = Math.Clamp(nullPrefix, 0, length);
            for (var i = nulls; i < length; i++)
            {
                BitUtility.SetBit(v._bits, i);
            }
            v.NullCount = nulls;
            return v;
        }

        public ArrowBuffer ToBuffer() => NullCount == 0 ? ArrowBuffer.Empty : new ArrowBuffer(_bits);
    }

    public static DoubleArray Doubles(byte[] values, int length, Validity? validity = null) =>
        new(new ArrowBuffer(values), validity?.ToBuffer() ?? ArrowBuffer.Empty, length, validity?.NullCount ?? 0, 0);

    public static Int64Array Int64s(byte[] values, int length) => new(new ArrowBuffer(values), ArrowBuffer.Empty, length, 0, 0);

    public static Int32Array Int32s(byte[] values, int length) => new(new ArrowBuffer(values), ArrowBuffer.Empty, length, 0, 0);

    public static Date32Array Dates(byte[] values, int length) => new(new ArrowBuffer(values), ArrowBuffer.Empty, length, 0, 0);

    /// <summary>A copy of a nullable float64 column (values and validity), with its slice offset applied.</summary>
    public static DoubleArray Copy(DoubleArray source)
    {
        var n = source.Length;
        var values = Buffer<double>(n);
        source.Values.CopyTo(Span<double>(values));
        if (source.NullCount == 0)
        {
            return Doubles(values, n);
        }
        var validity = new Validity(n);
        var span = Span<double>(values);
        for (var i = 0; i < n; i++)
        {
            var valid = source.IsValid(i);
            validity.Set(i, valid);
            if (!valid)
            {
                // A null slot's value is undefined in Arrow; zero keeps output files deterministic.
                span[i] = 0;
            }
        }
        return Doubles(values, n, validity);
    }

    /// <summary>One string repeated <paramref name="length"/> times (the symbol column of a one-symbol batch).</summary>
    public static StringArray Repeat(string value, int length)
    {
        var bytes = Encoding.UTF8.GetBytes(value);
        var offsets = Buffer<int>(length + 1);
        var offsetSpan = Span<int>(offsets);
        var data = new byte[bytes.Length * length];
        for (var i = 0; i < length; i++)
        {
            offsetSpan[i] = i * bytes.Length;
            bytes.CopyTo(data, i * bytes.Length);
        }
        offsetSpan[length] = length * bytes.Length;
        return new StringArray(length, new ArrowBuffer(offsets), new ArrowBuffer(data), ArrowBuffer.Empty, 0, 0);
    }
}
