using Apache.Arrow;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>
/// Puts built arrays together into a batch of a table: columns are set by <see cref="TableColumn"/> in any order and
/// come out in the order of the table's declared schema. The arrays are taken as they are (no copy).
/// </summary>
public sealed class TableBatchBuilder
{
    private readonly TableDefinition _table;
    private readonly IArrowArray?[] _arrays;

    public TableBatchBuilder(TableDefinition table)
    {
        ArgumentNullException.ThrowIfNull(table);
        _table = table;
        _arrays = new IArrowArray?[table.Schema.FieldsList.Count];
    }

    /// <summary>Sets <paramref name="column"/> (a column of the table, same type) to <paramref name="array"/>.</summary>
    public TableBatchBuilder Set<TArray>(TableColumn<TArray> column, TArray array)
        where TArray : class, IArrowArray
    {
        ArgumentNullException.ThrowIfNull(column);
        ArgumentNullException.ThrowIfNull(array);
        var schema = _table.Schema;
        var i = column.IndexIn(schema);
        if (i < 0)
        {
            throw new ArgumentException($"{_table.Id} has no column '{column.Name}' (declared for {column.Table})", nameof(column));
        }
        var field = schema.GetFieldByIndex(i);
        if (field.DataType.TypeId != column.Type.TypeId)
        {
            throw new ArgumentException($"column '{column.Name}' of {_table.Id} is {field.DataType.Name}; {column} is {column.Type.Name}", nameof(column));
        }
        _arrays[i] = array;
        return this;
    }

    /// <summary>A batch of the table's schema (the same instance) with <paramref name="length"/> rows; every column must be set.</summary>
    public RecordBatch Build(int length)
    {
        var fields = _table.Schema.FieldsList;
        var missing = fields.Where((_, i) => _arrays[i] is null).Select(f => f.Name).ToArray();
        if (missing.Length > 0)
        {
            throw new InvalidOperationException($"a batch of {_table.Id} needs columns {string.Join(", ", missing)}");
        }
        CheckLengths(length);
        return new RecordBatch(_table.Schema, _arrays!, length);
    }

    /// <summary>
    /// A batch of the columns set, in the table's order: rows for a write whose store stamps the rest
    /// (<c>ingested_at</c>, <c>run_id</c>; see <see cref="TableDefinition.DefaultLineage"/>).
    /// </summary>
    public RecordBatch BuildSet(int length)
    {
        CheckLengths(length);
        var fields = _table.Schema.FieldsList;
        var schema = new Schema.Builder();
        var arrays = new List<IArrowArray>(_arrays.Length);
        for (var i = 0; i < _arrays.Length; i++)
        {
            if (_arrays[i] is { } array)
            {
                schema.Field(fields[i]);
                arrays.Add(array);
            }
        }
        return new RecordBatch(schema.Build(), arrays, length);
    }

    private void CheckLengths(int length)
    {
        for (var i = 0; i < _arrays.Length; i++)
        {
            if (_arrays[i] is { } a && a.Length != length)
            {
                throw new InvalidOperationException(
                    $"column '{_table.Schema.GetFieldByIndex(i).Name}' of a batch of {_table.Id} has {a.Length} rows; the batch has {length}");
            }
        }
    }
}
