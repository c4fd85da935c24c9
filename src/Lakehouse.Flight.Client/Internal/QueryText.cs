using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Client.Internal;

/// <summary>Query and date text as the server reads it.</summary>
internal static class QueryText
{
    public static string Date(DateOnly d) => d.ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>The same query with every column (typed reads need them all).</summary>
    public static TableQuery AllColumns(TableQuery q) => TableQuery.Create(Layers.Name(q.Layer), q.Table, q.Symbols,
        q.DateFrom is { } f ? Date(f) : null, q.DateTo is { } t ? Date(t) : null, null, q.Limit).WithAsOf(q.AsOf).WithDiffFrom(q.DiffFrom);
}
