using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// One physical table folder: <c>silver/prices_daily</c>, or <c>bronze/prices_daily/source=X</c>
/// (bronze is partitioned by source above the symbol).
/// </summary>
public readonly record struct TableId(Layer Layer, string Table, string? Source = null)
{
    public static TableId Silver(string table = PriceSchema.Table) => new(Layer.Silver, table);

    public static TableId Bronze(string source, string table = PriceSchema.Table) => new(Layer.Bronze, table, Sources.Normalize(source));

    public override string ToString() =>
        Source is null ? $"{Layers.Name(Layer)}/{Table}" : $"{Layers.Name(Layer)}/{Table}/source={Source}";
}

/// <summary>Source names become bronze folder names: lower-case letters, digits, '_' and '-'.</summary>
public static class Sources
{
    public static string Normalize(string? source)
    {
        var s = (source ?? string.Empty).Trim().ToLowerInvariant();
        if (s.Length is 0 or > 64 || !s.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_' or '-'))
        {
            throw LakehouseException.Invalid(
                $"source '{source}' is not a valid name: use 1 to 64 lower-case letters, digits, '_' or '-' (e.g. vendor_x)");
        }
        return s;
    }
}
