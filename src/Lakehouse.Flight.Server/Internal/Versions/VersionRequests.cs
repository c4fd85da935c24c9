using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Versions;

/// <summary>What the version actions and endpoints share: their arguments parsed and checked (naming the field), and the calls into the store.</summary>
internal static class VersionRequests
{
    public const int DefaultListLimit = 100;
    public const int MaxListLimit = 100_000;

    /// <summary>The versions of a table, filtered (the <c>list-versions</c> action, <c>GET /tables/{layer}/{table}/versions</c>).</summary>
    public static IReadOnlyList<TableVersionInfo> List(LakeStore store, string? layer, string? table, string? symbol, string? from, string? to,
        int limit, CancellationToken cancellationToken)
    {
        var q = TableQuery.Create(layer, table);
        var def = store.Catalog.Get(q.Layer, q.Table);
        if (limit < 0 || limit > MaxListLimit)
        {
            throw LakehouseException.Invalid($"limit must be between 1 and {MaxListLimit} (got {limit})");
        }
        var sym = string.IsNullOrWhiteSpace(symbol) ? null : Symbols.Normalize(symbol);
        return store.ListVersions(def, sym, Instant(from, "from"), Instant(to, "to"), limit == 0 ? DefaultListLimit : limit, cancellationToken);
    }

    /// <summary>Table ids (<c>silver/prices_daily</c>) to tables; an unknown one is InvalidArgument naming <paramref name="field"/>.</summary>
    public static IReadOnlyList<TableDefinition> Tables(LakeStore store, IEnumerable<string> ids, string field)
    {
        var tables = new List<TableDefinition>();
        foreach (var raw in ids)
        {
            var id = raw.Trim().ToLowerInvariant();
            if (id.Length == 0)
            {
                continue;
            }
            tables.Add(store.Catalog.Tables.FirstOrDefault(t => t.Id == id) ?? throw LakehouseException.Invalid(
                $"{field}: unknown table '{raw}': valid tables are {string.Join(", ", store.Catalog.Tables.Select(t => t.Id))}"));
        }
        return tables;
    }

    public static DateTimeOffset? Instant(string? value, string field) =>
        string.IsNullOrWhiteSpace(value) ? null : ReadAsOf.ParseInstant(value, field);

    /// <summary>A version number given as text (HTTP, CLI); InvalidArgument naming <paramref name="field"/>.</summary>
    public static long? Version(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        return long.TryParse(value.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var v)
            ? v
            : throw LakehouseException.Invalid($"{field} '{value}' is not a version number: use a whole number >= 0, e.g. 42 (list-versions shows them)");
    }

    /// <summary>A vacuum's retention override in hours (null: the configured retention).</summary>
    public static TimeSpan? Retention(double? hours, string field) => hours switch
    {
        null => null,
        var h when double.IsFinite(h.Value) && h.Value >= 0 => TimeSpan.FromHours(h.Value),
        var h => throw LakehouseException.Invalid($"{field} must be a number of hours >= 0 (got {h})"),
    };

    public static VacuumReport Report(VacuumResult result) => new()
    {
        Files = result.Files,
        Bytes = result.Bytes,
        Version = result.Version,
        Pinned = result.Pinned,
    };
}
