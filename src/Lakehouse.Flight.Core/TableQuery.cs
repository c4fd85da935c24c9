using System.Globalization;

namespace Lakehouse.Flight.Core;

/// <summary>
/// A validated read: layer, table, symbols (normalized, sorted, distinct; empty = all), an inclusive
/// date range and a projection. Built only through <see cref="Create"/>, so a query that exists is safe
/// to turn into paths.
/// </summary>
public sealed record TableQuery
{
    private TableQuery(Layer layer, string table, IReadOnlyList<string> symbols, DateOnly? from, DateOnly? to,
        IReadOnlyList<string> columns, long limit)
    {
        Layer = layer;
        Table = table;
        Symbols = symbols;
        DateFrom = from;
        DateTo = to;
        Columns = columns;
        Limit = limit;
    }

    public Layer Layer { get; }
    public string Table { get; }
    public IReadOnlyList<string> Symbols { get; }
    public DateOnly? DateFrom { get; }
    public DateOnly? DateTo { get; }
    public IReadOnlyList<string> Columns { get; }
    public long Limit { get; }

    /// <summary>The version, instant or snapshot the read sees; null: the current version.</summary>
    public ReadAsOf? AsOf { get; private init; }

    /// <summary>The same query as of <paramref name="asOf"/> (null: the current version).</summary>
    public TableQuery WithAsOf(ReadAsOf? asOf) => this with { AsOf = asOf };

    /// <summary>
    /// A diff instead of rows: what changed between this lake version and the version the query reads (its
    /// <see cref="AsOf"/>, or the current one), per key: added, removed or changed, with old and new values.
    /// </summary>
    public long? DiffFrom { get; private init; }

    /// <summary>The same query as a diff from lake version <paramref name="version"/> (null: rows, not a diff).</summary>
    public TableQuery WithDiffFrom(long? version) => version is < 0
        ? throw LakehouseException.Invalid($"diff_from_version must be >= 0 (got {version})")
        : this with { DiffFrom = version };

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_");

    /// <summary>
    /// Validates the query's form: layer, table and column names, symbols, dates, limit. Whether the
    /// table and its columns exist is the server's catalogue's call (<c>TableCatalog.Resolve</c>), so
    /// a client can read a table it has never heard of.
    /// </summary>
    public static TableQuery Create(string? layer = null, string? table = null, IEnumerable<string>? symbols = null,
        string? dateFrom = null, string? dateTo = null, IEnumerable<string>? columns = null, long limit = 0)
    {
        var l = Layers.Parse(layer);
        var t = string.IsNullOrWhiteSpace(table) ? Tables.PriceTables.PricesDaily : table.Trim().ToLowerInvariant();
        if (t.Length > 64 || t.AsSpan().IndexOfAnyExcept(NameChars) >= 0)
        {
            throw LakehouseException.Invalid($"table '{table}' is not a table name: use lower-case letters, digits and '_', e.g. prices_daily");
        }
        var from = ParseDate(dateFrom, "date_from");
        var to = ParseDate(dateTo, "date_to");
        if (from is { } f && to is { } tt && f > tt)
        {
            throw LakehouseException.Invalid($"date_from {f:yyyy-MM-dd} is after date_to {tt:yyyy-MM-dd}");
        }
        if (limit < 0)
        {
            throw LakehouseException.Invalid($"limit must be >= 0 (got {limit})");
        }
        var cols = new List<string>();
        foreach (var c in columns ?? [])
        {
            var name = c.Trim().ToLowerInvariant();
            if (name.Length == 0)
            {
                throw LakehouseException.Invalid("a column name is empty: list columns such as [\"date\", \"close\"]");
            }
            if (cols.Contains(name))
            {
                throw LakehouseException.Invalid($"column '{name}' is listed twice");
            }
            cols.Add(name);
        }
        return new TableQuery(l, t, Core.Symbols.NormalizeAll(symbols ?? []), from, to, cols, limit);
    }

    /// <summary>The same query for one symbol (one Flight endpoint per symbol).</summary>
    public TableQuery ForSymbol(string symbol) =>
        new(Layer, Table, [Core.Symbols.Normalize(symbol)], DateFrom, DateTo, Columns, Limit) { AsOf = AsOf, DiffFrom = DiffFrom };

    public static DateOnly? ParseDate(string? value, string field)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            return null;
        }
        if (DateOnly.TryParseExact(value.Trim(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d))
        {
            return d;
        }
        throw LakehouseException.Invalid($"{field} '{value}' is not an ISO date: use YYYY-MM-DD, e.g. 2024-01-31");
    }
}
