using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Legacy.Internal;

/// <summary>
/// Which column of a legacy file holds what. The prototype's files were written by pandas over the
/// years with the spellings yfinance and pandas produce (<c>Date</c>, <c>Adj Close</c>, <c>adjclose</c>,
/// an index column), so names are compared without case, spaces or underscores.
/// </summary>
internal sealed record LegacyLayout(int Symbol, int Date, int Open, int High, int Low, int Close, int AdjClose, int Volume, int Source,
    IReadOnlyList<string> Ignored)
{
    private static readonly string[] SymbolNames = ["symbol", "ticker"];
    private static readonly string[] DateNames = ["date", "timestamp", "datetime"];
    private static readonly string[] AdjNames = ["adjclose", "adjustedclose"];

    /// <summary>Leaf columns to read, in a fixed order (symbol first so the scan can read it alone).</summary>
    public int[] Columns => new[] { Symbol, Date, Open, High, Low, Close, AdjClose, Volume, Source }.Where(c => c >= 0).ToArray();

    public static LegacyLayout Resolve(Schema schema, string file)
    {
        var byName = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < schema.FieldsList.Count; i++)
        {
            byName.TryAdd(Key(schema.FieldsList[i].Name), i);
        }
        int Find(params string[] names) => names.Select(n => byName.GetValueOrDefault(n, -1)).FirstOrDefault(i => i >= 0, -1);
        var layout = new LegacyLayout(Find(SymbolNames), Find(DateNames), Find("open"), Find("high"), Find("low"), Find("close"),
            Find(AdjNames), Find("volume"), Find("source"), []);
        var missing = new List<string>();
        if (layout.Symbol < 0) { missing.Add("symbol"); }
        if (layout.Date < 0) { missing.Add("date (or Date, timestamp)"); }
        if (layout.Open < 0) { missing.Add("open"); }
        if (layout.High < 0) { missing.Add("high"); }
        if (layout.Low < 0) { missing.Add("low"); }
        if (layout.Close < 0) { missing.Add("close"); }
        if (layout.Volume < 0) { missing.Add("volume"); }
        if (missing.Count > 0)
        {
            throw LakehouseException.Invalid(
                $"{file} is not a legacy prices file: no column for {string.Join(", ", missing)}; it has {string.Join(", ", schema.FieldsList.Select(f => f.Name))}");
        }
        var used = layout.Columns.ToHashSet();
        // Pandas index columns (__index_level_0__) and extra columns are not data we keep; the report names them.
        var ignored = schema.FieldsList.Where((_, i) => !used.Contains(i)).Select(f => f.Name).ToArray();
        return layout with { Ignored = ignored };
    }

    private static string Key(string name) =>
        new(name.Where(c => c is not (' ' or '_' or '-')).Select(char.ToLowerInvariant).ToArray());
}
