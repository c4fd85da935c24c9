namespace Lakehouse.Flight.Ingestion.Legacy.Internal;

/// <summary>
/// An order-independent checksum of bars: a 64-bit mix of each row's date and values (bit-exact
/// doubles), summed. Two sides agree only when they hold the same rows with the same values, however
/// each side happens to order them; it is deterministic, so printed values compare across runs.
/// </summary>
internal sealed class ValueChecksum
{
    private const ulong NoAdjClose = 0x9E3779B97F4A7C15UL;

    public long Rows { get; private set; }
    public ulong Sum { get; private set; }

    public void Add(int day, double open, double high, double low, double close, double? adjClose, long volume)
    {
        var x = Mix((ulong)(uint)day);
        x = Mix(x ^ BitConverter.DoubleToUInt64Bits(open));
        x = Mix(x ^ BitConverter.DoubleToUInt64Bits(high));
        x = Mix(x ^ BitConverter.DoubleToUInt64Bits(low));
        x = Mix(x ^ BitConverter.DoubleToUInt64Bits(close));
        x = Mix(x ^ (adjClose is { } a ? BitConverter.DoubleToUInt64Bits(a) : NoAdjClose));
        x = Mix(x ^ (ulong)volume);
        Sum = unchecked(Sum + x);
        Rows++;
    }

    public string Hex => Sum.ToString("x16", System.Globalization.CultureInfo.InvariantCulture);

    // splitmix64's finaliser: every input bit moves about half the output bits.
    private static ulong Mix(ulong z)
    {
        z = unchecked((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL);
        z = unchecked((z ^ (z >> 27)) * 0x94D049BB133111EBUL);
        return z ^ (z >> 31);
    }
}
