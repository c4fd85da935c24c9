using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.Types;
using DuckDB.NET.Native;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// DuckDB result columns as Arrow. The lake's own types map one to one (VARCHAR utf8, DATE date32, DOUBLE float64,
/// BIGINT int64, INTEGER int32, TIMESTAMP WITH TIME ZONE timestamp(us, UTC)); HUGEINT (what SUM of a BIGINT gives) is
/// served as int64 and DECIMAL as float64, timestamps in microseconds; UUID, TIME, INTERVAL, ENUM and BIT as utf8 (the
/// engine's own text of them); nested types are refused with the cast that serves them.
/// The rows come from DuckDB's Arrow export (<see cref="QueryResult"/>, one chunk at a time) and are served as they are
/// where the types agree; only the columns whose Arrow type differs are converted, column by column (<see cref="Serve"/>).
/// </summary>
internal static class DuckArrow
{
    /// <summary>Flight SQL's column metadata key for the engine's own type name.</summary>
    public const string TypeNameKey = "ARROW:FLIGHT:SQL:TYPE_NAME";

    /// <summary>The served schema of result columns (name, engine type).</summary>
    public static Schema SchemaOf(IReadOnlyList<(string Name, DuckDBType Type)> columns)
    {
        var builder = new Schema.Builder();
        foreach (var (name, type) in columns)
        {
            builder.Field(new Field(name, ArrowTypeOf(name, type), nullable: true, [new(TypeNameKey, TypeName(type))]));
        }
        return builder.Build();
    }

    /// <summary>The engine's name of a type as Flight SQL metadata carries it (VARCHAR, BIGINT, TIMESTAMPTZ...).</summary>
    internal static string TypeName(DuckDBType type) => type switch
    {
        DuckDBType.SqlNull => "NULL",
        _ => type.ToString().ToUpperInvariant(),
    };

    /// <summary>Types served as the engine's text of them: the statement is run with these columns cast to VARCHAR.</summary>
    public static bool ServedAsText(DuckDBType type) =>
        type is DuckDBType.Time or DuckDBType.TimeTz or DuckDBType.Interval or DuckDBType.Enum or DuckDBType.Bit;

    /// <summary>A parameter's type as the prepared statement's parameter schema declares it; null (any type) where the engine cannot tell.</summary>
    public static IArrowType ParameterTypeOf(DuckDBType type) => type switch
    {
        DuckDBType.Invalid or DuckDBType.Any or DuckDBType.SqlNull => NullType.Default,
        _ when IsServed(type) => ArrowTypeOf("?", type),
        _ => NullType.Default,
    };

    private static bool IsServed(DuckDBType type) =>
        type is not (DuckDBType.List or DuckDBType.Array or DuckDBType.Struct or DuckDBType.Map or DuckDBType.Union
            or DuckDBType.UnsignedHugeInt or DuckDBType.VarInt);

    internal static IArrowType ArrowTypeOf(string column, DuckDBType type) => type switch
    {
        DuckDBType.Varchar or DuckDBType.Uuid or DuckDBType.Time or DuckDBType.TimeTz or DuckDBType.Interval or DuckDBType.Enum
            or DuckDBType.Bit or DuckDBType.SqlNull or DuckDBType.Invalid or DuckDBType.Any => StringType.Default,
        DuckDBType.Boolean => BooleanType.Default,
        DuckDBType.TinyInt => Int8Type.Default,
        DuckDBType.SmallInt => Int16Type.Default,
        DuckDBType.Integer => Int32Type.Default,
        DuckDBType.BigInt or DuckDBType.HugeInt => Int64Type.Default,
        DuckDBType.UnsignedTinyInt => UInt8Type.Default,
        DuckDBType.UnsignedSmallInt => UInt16Type.Default,
        DuckDBType.UnsignedInteger => UInt32Type.Default,
        DuckDBType.UnsignedBigInt => UInt64Type.Default,
        DuckDBType.Float => FloatType.Default,
        DuckDBType.Double or DuckDBType.Decimal => DoubleType.Default,
        DuckDBType.Date => Date32Type.Default,
        DuckDBType.Timestamp or DuckDBType.TimestampS or DuckDBType.TimestampMs or DuckDBType.TimestampNs => new TimestampType(TimeUnit.Microsecond, (string?)null),
        DuckDBType.TimestampTz => new TimestampType(TimeUnit.Microsecond, "UTC"),
        DuckDBType.Blob => BinaryType.Default,
        _ => throw LakehouseException.Invalid(
            $"column '{column}' has the engine type {TypeName(type)}, which SQL over Flight does not serve: cast it (e.g. CAST({column} AS VARCHAR))"),
    };

    /// <summary>
    /// One chunk of DuckDB's Arrow export as the served schema: columns whose Arrow type already is the served one are the
    /// exported arrays themselves (no copy); timestamps are relabelled (UTC) or rescaled to microseconds, HUGEINT and
    /// DECIMAL (exported as decimal128) converted to int64 and float64, a NULL-typed column made a null utf8 column. With
    /// <paramref name="owned"/> the result's buffers are managed copies, so it outlives the exported batch (a sink may keep
    /// it); otherwise it shares the exported batch's native buffers and must be used before that batch is disposed.
    /// </summary>
    public static RecordBatch Serve(Schema served, RecordBatch exported, bool owned)
    {
        var columns = new IArrowArray[served.FieldsList.Count];
        for (var i = 0; i < columns.Length; i++)
        {
            var column = Column(served.GetFieldByIndex(i), exported.Column(i));
            columns[i] = owned ? ArrowArrayFactory.BuildArray(Copy(column.Data)) : column;
        }
        return new RecordBatch(served, columns, exported.Length);
    }

    /// <summary>The array's buffers copied into managed memory (one copy per buffer, not per value).</summary>
    private static ArrayData Copy(ArrayData data) => new(data.DataType, data.Length, data.NullCount, data.Offset,
        data.Buffers.Select(b => b.IsEmpty ? b : new ArrowBuffer(b.Span.ToArray())),
        data.Children?.Select(Copy), data.Dictionary is null ? null : Copy(data.Dictionary));

    private static IArrowArray Column(Field field, IArrowArray array)
    {
        var served = field.DataType;
        return (served, array) switch
        {
            (TimestampType ts, TimestampArray t) when ((TimestampType)t.Data.DataType).Unit == TimeUnit.Microsecond =>
                new TimestampArray(Relabel(t.Data, ts)),
            (TimestampType ts, TimestampArray t) => Rescaled(t, ts),
            (Int64Type, Decimal128Array d) => Int64s(field.Name, d),
            (DoubleType, Decimal128Array d) => Doubles(d),
            (StringType, _) when array.Data.DataType.TypeId != ArrowTypeId.String && array.NullCount == array.Length => AllNull(array.Length),
            _ when array.Data.DataType.TypeId == served.TypeId => array,
            _ => throw new InvalidOperationException($"column '{field.Name}': the engine exported {array.Data.DataType.Name} where {served.Name} is served"),
        };
    }

    private static ArrayData Relabel(ArrayData data, IArrowType type) =>
        new(type, data.Length, data.NullCount, data.Offset, data.Buffers, data.Children, data.Dictionary);

    private static TimestampArray Rescaled(TimestampArray array, TimestampType served)
    {
        var unit = ((TimestampType)array.Data.DataType).Unit;
        var values = Values(array, out var micros);
        for (var i = 0; i < micros.Length; i++)
        {
            micros[i] = unit switch
            {
                TimeUnit.Second => values[i] * 1_000_000,
                TimeUnit.Millisecond => values[i] * 1_000,
                _ => values[i] / 1_000,
            };
        }
        return new TimestampArray(Typed(array, served, micros));
    }

    private static Int64Array Int64s(string column, Decimal128Array array)
    {
        var longs = new long[array.Length];
        for (var i = 0; i < longs.Length; i++)
        {
            if (array.IsValid(i))
            {
                var value = Int128At(array, i);
                longs[i] = value >= long.MinValue && value <= long.MaxValue ? (long)value
                    : throw LakehouseException.Invalid($"column '{column}' holds a value beyond int64: cast it to DOUBLE (e.g. CAST(SUM(x) AS DOUBLE))");
            }
        }
        return new Int64Array(Typed(array, Int64Type.Default, longs));
    }

    private static DoubleArray Doubles(Decimal128Array array)
    {
        var scale = Math.Pow(10, ((Decimal128Type)array.Data.DataType).Scale);
        var doubles = new double[array.Length];
        for (var i = 0; i < doubles.Length; i++)
        {
            if (array.IsValid(i))
            {
                doubles[i] = (double)Int128At(array, i) / scale;
            }
        }
        return new DoubleArray(Typed(array, DoubleType.Default, doubles));
    }

    private static Int128 Int128At(Decimal128Array array, int index) =>
        BinaryPrimitives.ReadInt128LittleEndian(array.ValueBuffer.Span.Slice((array.Offset + index) * 16, 16));

    private static ReadOnlySpan<long> Values(TimestampArray array, out long[] copy)
    {
        copy = new long[array.Length];
        return MemoryMarshal.Cast<byte, long>(array.ValueBuffer.Span).Slice(array.Offset, array.Length);
    }

    /// <summary>New values under <paramref name="type"/>, with <paramref name="source"/>'s validity (copied: the new array outlives nothing, but owns its bytes).</summary>
    private static ArrayData Typed<T>(IArrowArray source, IArrowType type, T[] values) where T : struct
    {
        var validity = source.NullCount == 0 ? ArrowBuffer.Empty : BitmapOf(source);
        return new ArrayData(type, source.Length, source.NullCount, 0, [validity, new ArrowBuffer(MemoryMarshal.AsBytes(values.AsSpan()).ToArray())]);
    }

    private static ArrowBuffer BitmapOf(IArrowArray source)
    {
        var bits = new ArrowBuffer.BitmapBuilder(source.Length);
        for (var i = 0; i < source.Length; i++)
        {
            bits.Append(source.IsValid(i));
        }
        return bits.Build();
    }

    private static StringArray AllNull(int length)
    {
        var builder = new StringArray.Builder();
        for (var i = 0; i < length; i++)
        {
            builder.AppendNull();
        }
        return builder.Build();
    }
}
