using Apache.Arrow;
using Apache.Arrow.Types;
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
            throw LakehouseException.InvalidData(
                $"{file} is not a legacy prices file: no column for {string.Join(", ", missing)}; it has {string.Join(", ", schema.FieldsList.Select(f => f.Name))}");
        }
        CheckTypes(schema, layout, file);
        var used = layout.Columns.ToHashSet();
        // Pandas index columns (__index_level_0__) and extra columns are not data we keep; the report names them.
        var ignored = schema.FieldsList.Where((_, i) => !used.Contains(i)).Select(f => f.Name).ToArray();
        return layout with { Ignored = ignored };
    }

    /// <summary>
    /// Refuses, before a row is read, a column whose type the migration cannot read losslessly (DECIMAL prices,
    /// string volumes): a data error naming the column and its type, not a usage error.
    /// </summary>
    private static void CheckTypes(Schema schema, LegacyLayout layout, string file)
    {
        var bad = new List<string>();
        var wanted = new SortedSet<string>(StringComparer.Ordinal);
        void Check(int index, string expected, Func<IArrowType, bool> ok)
        {
            if (index < 0)
            {
                return;
            }
            var field = schema.FieldsList[index];
            var type = field.DataType is DictionaryType d ? d.ValueType : field.DataType;
            if (!ok(type))
            {
                bad.Add($"'{field.Name}' ({Describe(field.DataType)})");
                wanted.Add(expected);
            }
        }
        static bool Price(IArrowType t) => t.TypeId is ArrowTypeId.Double or ArrowTypeId.Float or ArrowTypeId.Int64 or ArrowTypeId.Int32;
        Check(layout.Symbol, "strings for symbol and source", t => t.TypeId is ArrowTypeId.String);
        Check(layout.Source, "strings for symbol and source", t => t.TypeId is ArrowTypeId.String);
        Check(layout.Date, "date32, date64, timestamps or ISO date strings for the date",
            t => t.TypeId is ArrowTypeId.Date32 or ArrowTypeId.Date64 or ArrowTypeId.Timestamp or ArrowTypeId.String);
        foreach (var price in new[] { layout.Open, layout.High, layout.Low, layout.Close, layout.AdjClose })
        {
            Check(price, "float64 prices (or float32, int64, int32)", Price);
        }
        Check(layout.Volume, "int64 volumes (or int32, uint64, whole float64)",
            t => t.TypeId is ArrowTypeId.Int64 or ArrowTypeId.Int32 or ArrowTypeId.UInt64 or ArrowTypeId.Double);
        if (bad.Count > 0)
        {
            throw LakehouseException.InvalidData(
                $"{file}: column(s) {string.Join(", ", bad)} cannot be migrated losslessly: the migration reads {string.Join("; ", wanted)}. "
                + "Convert them (pandas: df[col] = df[col].astype(float)) and migrate again");
        }
    }

    private static string Describe(IArrowType type) => type switch
    {
        Decimal128Type d => $"decimal128({d.Precision}, {d.Scale})",
        Decimal256Type d => $"decimal256({d.Precision}, {d.Scale})",
        DictionaryType d => $"dictionary<{Describe(d.ValueType)}>",
        _ => type.Name,
    };

    private static string Key(string name) =>
        new(name.Where(c => c is not (' ' or '_' or '-')).Select(char.ToLowerInvariant).ToArray());
}
