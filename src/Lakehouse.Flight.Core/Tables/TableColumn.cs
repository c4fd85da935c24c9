using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>
/// One column of a table, declared once: its name, Arrow type and nullability. A table's schema is built from its
/// columns (<see cref="Schema(TableColumn[])"/>), code that builds a batch sets columns through them
/// (<see cref="TableBatchBuilder"/>), and code that reads one gets its typed array from them
/// (<see cref="TableColumn{TArray}.Of"/>), so a column name is written in one place.
/// </summary>
public abstract class TableColumn
{
    private protected TableColumn(string table, string name, IArrowType type, bool nullable)
    {
        ArgumentException.ThrowIfNullOrEmpty(table);
        ArgumentException.ThrowIfNullOrEmpty(name);
        Table = table;
        Field = new Field(name, type, nullable);
    }

    /// <summary>The table the column is declared for (in error messages), e.g. <c>prices_daily</c>.</summary>
    public string Table { get; }

    public Field Field { get; }

    public string Name => Field.Name;

    public IArrowType Type => Field.DataType;

    public bool Nullable => Field.IsNullable;

    public override string ToString() => $"{Table}.{Name}";

    /// <summary>The schema of <paramref name="columns"/>, in the order given: a table's declared order.</summary>
    public static Schema Schema(params TableColumn[] columns)
    {
        var builder = new Schema.Builder();
        foreach (var c in columns)
        {
            builder.Field(c.Field);
        }
        return builder.Build();
    }

    public static TableColumn<StringArray> Utf8(string table, string name, bool nullable = false) => new(table, name, StringType.Default, nullable);

    public static TableColumn<Date32Array> Date32(string table, string name, bool nullable = false) => new(table, name, Date32Type.Default, nullable);

    public static TableColumn<DoubleArray> Float64(string table, string name, bool nullable = false) => new(table, name, DoubleType.Default, nullable);

    public static TableColumn<Int64Array> Int64(string table, string name, bool nullable = false) => new(table, name, Int64Type.Default, nullable);

    public static TableColumn<Int32Array> Int32(string table, string name, bool nullable = false) => new(table, name, Int32Type.Default, nullable);

    /// <summary>timestamp(us, UTC), the only timestamp tables hold.</summary>
    public static TableColumn<TimestampArray> Timestamp(string table, string name, bool nullable = false) =>
        new(table, name, TimestampUtc, nullable);

    // Declared here rather than read from PriceTables: PriceTables builds its schemas from columns, so a column
    // reading PriceTables while it initialises would see its fields still null.
    private static readonly TimestampType TimestampUtc = new(TimeUnit.Microsecond, "UTC");

    /// <summary>The index of this column in <paramref name="schema"/>, or -1; resolved by name once per schema instance.</summary>
    public int IndexIn(Schema schema)
    {
        // One immutable pair swapped whole, so threads reading batches of different schemas never see a torn entry.
        var last = _last;
        if (last is null || !ReferenceEquals(last.Schema, schema))
        {
            last = new Resolved(schema, schema.GetFieldIndex(Name, StringComparer.Ordinal));
            _last = last;
        }
        return last.Index;
    }

    private protected ArgumentException Missing(Schema schema) => new(
        $"a batch of {Table} has no '{Name}' column ({Type.Name}); it has {(schema.FieldsList.Count == 0 ? "none" : string.Join(", ", schema.FieldsList.Select(f => f.Name)))}");

    private protected ArgumentException Mistyped(Schema schema, int index) => new(
        $"column '{Name}' of a batch of {Table} is {schema.GetFieldByIndex(index).DataType.Name}; {Type.Name} expected");

    private Resolved? _last;

    private sealed record Resolved(Schema Schema, int Index);
}

/// <summary>A column whose arrays are <typeparamref name="TArray"/> (e.g. <see cref="DoubleArray"/> for float64).</summary>
public sealed class TableColumn<TArray> : TableColumn
    where TArray : class, IArrowArray
{
    internal TableColumn(string table, string name, IArrowType type, bool nullable)
        : base(table, name, type, nullable)
    {
    }

    /// <summary>
    /// The column's array in <paramref name="batch"/>, found by name (any column order, extra columns ignored); an
    /// <see cref="ArgumentException"/> naming the table and column when the batch lacks it or holds another type.
    /// </summary>
    public TArray Of(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var i = IndexIn(batch.Schema);
        if (i < 0)
        {
            throw Missing(batch.Schema);
        }
        return batch.Column(i) as TArray ?? throw Mistyped(batch.Schema, i);
    }

    /// <summary>The column's array, or null when <paramref name="batch"/> has no such column (a wrong type is still an error).</summary>
    public TArray? Find(RecordBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        var i = IndexIn(batch.Schema);
        return i < 0 ? null : batch.Column(i) as TArray ?? throw Mistyped(batch.Schema, i);
    }
}
