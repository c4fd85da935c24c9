namespace Lakehouse.Flight.Core;

/// <summary>One month partition of one symbol.</summary>
public readonly record struct PartitionKey(string Symbol, int Year, int Month) : IComparable<PartitionKey>
{
    public static PartitionKey Of(string symbol, DateOnly date) => new(symbol, date.Year, date.Month);

    public DateOnly FirstDay => new(Year, Month, 1);

    public DateOnly LastDay => FirstDay.AddMonths(1).AddDays(-1);

    public int CompareTo(PartitionKey other)
    {
        var c = string.CompareOrdinal(Symbol, other.Symbol);
        if (c != 0)
        {
            return c;
        }
        c = Year.CompareTo(other.Year);
        return c != 0 ? c : Month.CompareTo(other.Month);
    }

    public bool Overlaps(DateOnly? from, DateOnly? to) =>
        (from is null || LastDay >= from.Value) && (to is null || FirstDay <= to.Value);

    public override string ToString() => $"{Symbol}/{Year}-{Month:D2}";
}
