namespace Lakehouse.Flight.Core;

/// <summary>
/// One partition file of one symbol: (year, month) for month partitions, (year, 0) for year
/// partitions, (0, 0) for a table partitioned by symbol only (<c>TableDefinition.PartitionOf</c> says which).
/// </summary>
public readonly record struct PartitionKey(string Symbol, int Year, int Month) : IComparable<PartitionKey>
{
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

    public override string ToString() => $"{Symbol}/{Year}-{Month:D2}";
}
