using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>
/// The seed's layout of a table (<c>symbol=</c> folders): what <c>lakehouse export --layout seed</c> writes and
/// <c>lakehouse migrate --layout lake</c> reads. The lake itself stores large sorted files (see <see cref="TableDefinition.BandYears"/>).
/// </summary>
public enum Partitioning
{
    /// <summary><c>symbol=S/data.parquet</c>: one file per symbol (small tables such as corporate actions).</summary>
    Symbol,

    /// <summary><c>symbol=S/year=Y/data.parquet</c>.</summary>
    SymbolYear,

    /// <summary><c>symbol=S/year=Y/month=M/data.parquet</c> (the seed's layout for daily bars).</summary>
    SymbolYearMonth,
}

/// <summary>What a write does with incoming rows.</summary>
public enum WriteMode
{
    /// <summary>One row per key: each row is inserted, updated (a value differs) or unchanged.</summary>
    Upsert,

    /// <summary>Raw landing (bronze): rows are appended unless a row with the same values is already there.</summary>
    Append,
}

/// <summary>Checks one row of a batch already in the table's schema; returns why it is rejected, or null.</summary>
public delegate string? RowValidator(RecordBatch batch, int row, DateOnly today);

/// <summary>
/// One table of the lake: where it lives, its Arrow schema (the Parquet columns are mapped to it by
/// name), its key and partitioning, how writes treat rows, and what a valid row is. Storage, Flight
/// and the HTTP API serve any table a <see cref="TableCatalog"/> holds; a new table is a new entry,
/// not new storage code.
/// </summary>
public sealed class TableDefinition
{
    /// <summary>Columns that record where and when a row came from; they never make a row "updated".</summary>
    public static readonly IReadOnlyList<string> DefaultLineage = [SourceColumn, IngestedAtColumn, RunIdColumn];

    private static readonly System.Buffers.SearchValues<char> NameChars =
        System.Buffers.SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789_");

    public TableDefinition(Layer layer, string name, Schema schema, IReadOnlyList<string> key, Partitioning partitioning,
        WriteMode mode = WriteMode.Upsert, bool perSource = false, RowValidator? validator = null, bool derived = false,
        string? description = null, int? bandYears = null)
    {
        if (string.IsNullOrEmpty(name) || name.Length > 64 || name.AsSpan().IndexOfAnyExcept(NameChars) >= 0)
        {
            throw new ArgumentException($"table name '{name}' must be 1 to 64 lower-case letters, digits or '_'", nameof(name));
        }
        Layer = layer;
        Name = name;
        Schema = schema;
        Key = key;
        Partitioning = partitioning;
        Mode = mode;
        PerSource = perSource;
        Validator = validator;
        Derived = derived;
        Description = description ?? $"{Layers.Name(layer)}/{name}";
        BandYears = bandYears ?? (partitioning == Partitioning.Symbol ? 0 : 1);
        if (BandYears is < 0 or > 100)
        {
            throw new ArgumentException($"{Id}: a file band spans 0 (all time) to 100 years", nameof(bandYears));
        }
        CheckColumn(SymbolColumn, StringType.Default, nullable: false);
        if (key.Count < 2 || key[0] != SymbolColumn)
        {
            throw new ArgumentException($"{Id}: the key starts with symbol, then a date32 column (e.g. [symbol, date])", nameof(key));
        }
        CheckColumn(key[1], Date32Type.Default, nullable: false);
        foreach (var extra in key.Skip(2))
        {
            CheckColumn(extra, StringType.Default, nullable: false);
        }
        foreach (var field in schema.FieldsList)
        {
            if (!IsSupported(field.DataType))
            {
                throw new ArgumentException($"{Id}: column '{field.Name}' has type {field.DataType.Name}; tables hold utf8, date32, float64, int64, int32 and timestamp(us, UTC)");
            }
        }
        ComparedColumns = schema.FieldsList.Select(f => f.Name).Where(n => !DefaultLineage.Contains(n)).ToArray();
    }

    public Layer Layer { get; }

    public string Name { get; }

    /// <summary><c>layer/name</c>, e.g. <c>silver/prices_daily</c>.</summary>
    public string Id => $"{Layers.Name(Layer)}/{Name}";

    public Schema Schema { get; }

    /// <summary>Primary key: symbol, a date32 column, then any utf8 columns.</summary>
    public IReadOnlyList<string> Key { get; }

    public const string SymbolColumn = "symbol";

    /// <summary>Lineage: where a row came from (stamped by the store when a write names its source).</summary>
    public const string SourceColumn = "source";

    /// <summary>Lineage: when the store took the row in, timestamp(us, UTC).</summary>
    public const string IngestedAtColumn = "ingested_at";

    /// <summary>Lineage (bronze): the run that landed the row.</summary>
    public const string RunIdColumn = "run_id";

    /// <summary>The date column of the key: rows are sorted and partitioned by it.</summary>
    public string DateColumn => Key[1];

    /// <summary>The seed layout's partitioning (exports and migrations from the seed layout).</summary>
    public Partitioning Partitioning { get; }

    /// <summary>
    /// Years of dates one data file may span (files never cross a band): 1 for daily tables, so a correction or an
    /// append rewrites or adds files of one year only; more for sparse tables (monthly bars); 0 for one band of all time.
    /// </summary>
    public int BandYears { get; }

    /// <summary>The first year of the band holding <paramref name="date"/> (0 when the table has one band).</summary>
    public int BandOf(DateOnly date) => BandYears == 0 ? 0 : Math.Max(1, date.Year - (date.Year % BandYears));

    /// <summary>First and last day of the band starting in <paramref name="band"/>.</summary>
    public (DateOnly First, DateOnly Last) BandBounds(int band) => BandYears == 0
        ? (DateOnly.MinValue, DateOnly.MaxValue)
        : (new DateOnly(band, 1, 1), new DateOnly(Math.Min(9999, band + BandYears - 1), 12, 31));

    /// <summary>How the band appears in data file names: <c>2024</c>, <c>2020-2029</c>, or <c>all</c>.</summary>
    public string BandLabel(int band) => BandYears switch
    {
        0 => "all",
        1 => band.ToString(System.Globalization.CultureInfo.InvariantCulture),
        _ => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{band}-{Math.Min(9999, band + BandYears - 1)}"),
    };

    public WriteMode Mode { get; }

    /// <summary>Partitioned by <c>source=</c> above <c>symbol=</c> (bronze: raw rows per source).</summary>
    public bool PerSource { get; }

    /// <summary>Row rules of an upsert (rows that break them are rejected with the reason); null = none.</summary>
    public RowValidator? Validator { get; }

    /// <summary>Rebuilt from other tables (gold); never written by users.</summary>
    public bool Derived { get; }

    public string Description { get; }

    /// <summary>Columns whose values decide whether an upserted row is unchanged (all but the lineage columns).</summary>
    public IReadOnlyList<string> ComparedColumns { get; }

    /// <summary>
    /// float64 columns whose highest value and null count each data file records per symbol (beside the symbol's row
    /// range and dates), so that a reader learns the highest value of a symbol's history up to a date without reading
    /// it: a daily append's gold refresh takes the running peak of the years before the ones it reads from there.
    /// Empty (the default): none. Files written before a column was listed simply have no summary of it.
    /// </summary>
    /// <exception cref="ArgumentException">A name that is not a float64 column of the schema, or listed twice.</exception>
    public IReadOnlyList<string> SummaryColumns
    {
        get => _summaryColumns;
        init
        {
            foreach (var name in value)
            {
                var i = Schema.GetFieldIndex(name);
                if (i < 0 || Schema.FieldsList[i].DataType.TypeId != ArrowTypeId.Double)
                {
                    throw new ArgumentException($"{Id}: summary column '{name}' must be a float64 column of the table", nameof(value));
                }
            }
            if (value.Distinct(StringComparer.Ordinal).Count() != value.Count)
            {
                throw new ArgumentException($"{Id}: summary columns are listed once each", nameof(value));
            }
            _summaryColumns = [.. value];
        }
    }

    private readonly string[] _summaryColumns = [];

    /// <summary>
    /// Days back from the newest date of a band during which the band's small files are left out of compaction
    /// (0, the default: none): for a table whose newest rows are rewritten every day, such as monthly bars (the current
    /// month's bar changes with each trading day), so each day rewrites the few rows of that small file instead of the
    /// large files the compactor would have merged them into.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Less than 0 or more than 366.</exception>
    public int HotDays
    {
        get => _hotDays;
        init => _hotDays = value is >= 0 and <= 366 ? value
            : throw new ArgumentOutOfRangeException(nameof(value), value, $"{Id}: hot days must be 0 to 366");
    }

    private readonly int _hotDays;

    /// <summary>The partition (year, month) a date falls in; 0 for levels the table is not partitioned by.</summary>
    public (int Year, int Month) PartitionOf(DateOnly date) => Partitioning switch
    {
        Partitioning.Symbol => (0, 0),
        Partitioning.SymbolYear => (date.Year, 0),
        _ => (date.Year, date.Month),
    };

    /// <summary>
    /// First and last day a partition can hold. Computed without date arithmetic, so a partition of the
    /// calendar's last month (<c>year=9999/month=12</c>, which an old build let bronze store) has bounds too.
    /// </summary>
    public (DateOnly First, DateOnly Last) Bounds(int year, int month) => Partitioning switch
    {
        Partitioning.Symbol => (DateOnly.MinValue, DateOnly.MaxValue),
        Partitioning.SymbolYear => (new DateOnly(year, 1, 1), new DateOnly(year, 12, 31)),
        _ => (new DateOnly(year, month, 1), new DateOnly(year, month, DateTime.DaysInMonth(year, month))),
    };

    /// <summary>The schema restricted to <paramref name="columns"/> in the order given; refuses unknown or repeated names.</summary>
    public Schema Project(IReadOnlyList<string> columns)
    {
        if (columns.Count == 0)
        {
            return Schema;
        }
        var builder = new Schema.Builder();
        foreach (var c in columns)
        {
            if (Schema.GetFieldIndex(c) < 0)
            {
                throw LakehouseException.Invalid(
                    $"unknown column '{c}' in {Id}: valid columns are {string.Join(", ", Schema.FieldsList.Select(f => f.Name))}");
            }
            builder.Field(Schema.GetFieldByName(c));
        }
        return builder.Build();
    }

    public override string ToString() => Id;

    private void CheckColumn(string name, IArrowType type, bool nullable)
    {
        var i = Schema.GetFieldIndex(name);
        if (i < 0 || Schema.FieldsList[i].DataType.TypeId != type.TypeId || Schema.FieldsList[i].IsNullable != nullable)
        {
            throw new ArgumentException($"{Id}: needs a non-null {type.Name} column '{name}'");
        }
    }

    private static bool IsSupported(IArrowType type) => type switch
    {
        StringType or Date32Type or DoubleType or Int64Type or Int32Type => true,
        TimestampType ts => ts.Unit == TimeUnit.Microsecond && ts.Timezone is "UTC",
        _ => false,
    };
}
