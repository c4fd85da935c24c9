using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion;

/// <summary>
/// Where daily bars come from (synthetic, Yahoo, CSV files). A source fetches; it never writes: the
/// ingestion runner lands what it yields in bronze and promotes it to silver.
/// </summary>
public interface IPriceSource
{
    /// <summary>The name users type (<c>--source yahoo</c>) and the bronze source partition.</summary>
    string Name { get; }

    /// <summary>
    /// Fetches each requested symbol and yields one result per symbol as it completes (any order).
    /// A symbol that fails yields a result with <see cref="SourceResult.Error"/> set; the others go on.
    /// Throws <see cref="LakehouseException"/> only for a request that cannot run at all (bad range, missing path).
    /// </summary>
    IAsyncEnumerable<SourceResult> FetchAsync(SourceRequest request, CancellationToken cancellationToken = default);
}

/// <summary>What to fetch. Sources say which fields they need (CSV needs <see cref="Path"/>, Yahoo a range).</summary>
/// <param name="Symbols">Normalised symbols; CSV may leave it empty (symbols from file names).</param>
/// <param name="From">First date, inclusive.</param>
/// <param name="To">Last date, inclusive.</param>
/// <param name="Path">A file or folder (CSV).</param>
/// <param name="Seed">Random seed (synthetic).</param>
public sealed record SourceRequest(IReadOnlyList<string> Symbols, DateOnly? From, DateOnly? To, string? Path = null, long Seed = 42);

/// <summary>What a source returned for one symbol.</summary>
/// <param name="Symbol">The normalised symbol.</param>
/// <param name="Bars">Valid daily bars, date-ascending, one per date.</param>
/// <param name="Actions">Dividends, splits, capital gains in the range.</param>
/// <param name="Rejected">Why rows the source dropped were dropped (missing price, partial bar...), one reason each.</param>
/// <param name="Error">Why the whole symbol failed (unknown symbol, HTTP errors after retries); null on success.</param>
public sealed record SourceResult(
    string Symbol,
    IReadOnlyList<PriceBar> Bars,
    IReadOnlyList<CorporateAction> Actions,
    IReadOnlyList<string> Rejected,
    string? Error = null)
{
    public static SourceResult Failed(string symbol, string error) => new(symbol, [], [], [], error);
}
