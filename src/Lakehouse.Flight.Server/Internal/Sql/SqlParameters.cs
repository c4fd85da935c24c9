using Apache.Arrow;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>A row of a Flight SQL parameter batch as positional engine parameters (column i binds <c>?</c> number i+1).</summary>
internal static class SqlParameters
{
    public static object?[] Row(RecordBatch batch, int row)
    {
        var values = new object?[batch.ColumnCount];
        for (var i = 0; i < values.Length; i++)
        {
            values[i] = Value(batch.Column(i), row, batch.Schema.GetFieldByIndex(i).Name);
        }
        return values;
    }

    private static object? Value(IArrowArray array, int row, string name) => array.IsNull(row) ? null : array switch
    {
        StringArray a => a.GetString(row),
        LargeStringArray a => a.GetString(row),
        BooleanArray a => a.GetValue(row),
        Int8Array a => (long)a.GetValue(row)!.Value,
        Int16Array a => (long)a.GetValue(row)!.Value,
        Int32Array a => (long)a.GetValue(row)!.Value,
        Int64Array a => a.GetValue(row),
        UInt8Array a => (long)a.GetValue(row)!.Value,
        UInt16Array a => (long)a.GetValue(row)!.Value,
        UInt32Array a => (long)a.GetValue(row)!.Value,
        FloatArray a => (double)a.GetValue(row)!.Value,
        DoubleArray a => a.GetValue(row),
        Date32Array a => a.GetDateOnly(row),
        Date64Array a => a.GetDateOnly(row),
        TimestampArray a => a.GetTimestamp(row)!.Value.UtcDateTime,
        _ => throw LakehouseException.Invalid($"parameter '{name}' has Arrow type {array.Data.DataType.Name}, which cannot be bound: send utf8, bool, an integer, a float, a date or a timestamp"),
    };
}
