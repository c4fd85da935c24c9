using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// One physical table folder: a catalogue table (<c>silver/prices_daily</c>), or for tables partitioned
/// per source one source of it (<c>bronze/prices_daily/source=X</c>).
/// </summary>
public readonly record struct TableId(TableDefinition Definition, string? Source = null)
{
    public Layer Layer => Definition.Layer;

    public string Table => Definition.Name;

    public static TableId Silver() => new(PriceTables.Silver);

    public static TableId Bronze(string source) => new(PriceTables.Bronze, Sources.Normalize(source));

    public override string ToString() => Source is null ? Definition.Id : $"{Definition.Id}/source={Source}";
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
