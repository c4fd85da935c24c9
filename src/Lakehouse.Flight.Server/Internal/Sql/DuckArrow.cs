using System.Data.Common;
using System.Numerics;
using Apache.Arrow;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// DuckDB result columns as Arrow: the lake's own types map one to one (VARCHAR utf8, DATE date32, DOUBLE float64,
/// BIGINT int64, INTEGER int32, TIMESTAMP WITH TIME ZONE timestamp(us, UTC)); HUGEINT (what SUM of a BIGINT gives) is
/// served as int64 and DECIMAL as float64; UUID, TIME, INTERVAL and ENUM as utf8; nested types are refused with the
/// cast that serves them.
/// </summary>
internal static class DuckArrow
{
    /// <summary>Flight SQL's column metadata key for the engine's own type name.</summary>
    public const string TypeNameKey = "ARROW:FLIGHT:SQL:TYPE_NAME";

    /// <summary>The DuckDB type name (DuckDB.NET's <c>GetDataTypeName</c>) of each column, as an Arrow field.</summary>
    public static Schema SchemaOf(DbDataReader reader)
    {
        var builder = new Schema.Builder();
        for (var i = 0; i < reader.FieldCount; i++)
        {
            builder.Field(new Field(reader.GetName(i), ArrowTypeOf(reader.GetName(i), reader.GetDataTypeName(i)), nullable: true,
                [new(TypeNameKey, reader.GetDataTypeName(i).ToUpperInvariant())]));
        }
        return builder.Build();
    }

    /// <summary>The columns DESCRIBE reports (name, SQL type such as <c>DECIMAL(18,3)</c> or <c>VARCHAR[]</c>), as the same fields the reader gives.</summary>
    public static Schema SchemaOf(IEnumerable<(string Name, string SqlType)> columns)
    {
        var builder = new Schema.Builder();
        foreach (var (name, sqlType) in columns)
        {
            var duckType = ProviderTypeName(sqlType);
            builder.Field(new Field(name, ArrowTypeOf(name, duckType), nullable: true, [new(TypeNameKey, duckType.ToUpperInvariant())]));
        }
        return builder.Build();
    }

    /// <summary>An engine SQL type as DuckDB.NET names it (<c>GetDataTypeName</c>): TIMESTAMP WITH TIME ZONE is TimestampTz, DECIMAL(p,s) Decimal...</summary>
    internal static string ProviderTypeName(string sqlType)
    {
        var t = sqlType.Trim().ToUpperInvariant();
        if (t.EndsWith(']'))
        {
            return t.EndsWith("[]", StringComparison.Ordinal) ? "List" : "Array";
        }
        var paren = t.IndexOf('(', StringComparison.Ordinal);
        var head = paren < 0 ? t : t[..paren].Trim();
        return head switch
        {
            "VARCHAR" => "Varchar",
            "BOOLEAN" => "Boolean",
            "TINYINT" => "TinyInt",
            "SMALLINT" => "SmallInt",
            "INTEGER" => "Integer",
            "BIGINT" => "BigInt",
            "HUGEINT" => "HugeInt",
            "UTINYINT" => "UnsignedTinyInt",
            "USMALLINT" => "UnsignedSmallInt",
            "UINTEGER" => "UnsignedInteger",
            "UBIGINT" => "UnsignedBigInt",
            "UHUGEINT" => "UnsignedHugeInt",
            "FLOAT" => "Float",
            "DOUBLE" => "Double",
            "DECIMAL" => "Decimal",
            "DATE" => "Date",
            "TIMESTAMP" => "Timestamp",
            "TIMESTAMP_S" => "TimestampS",
            "TIMESTAMP_MS" => "TimestampMs",
            "TIMESTAMP_NS" => "TimestampNs",
            "TIMESTAMP WITH TIME ZONE" => "TimestampTz",
            "TIME" => "Time",
            "TIME WITH TIME ZONE" => "TimeTz",
            "INTERVAL" => "Interval",
            "UUID" => "Uuid",
            "BLOB" => "Blob",
            "BIT" => "Bit",
            "ENUM" => "Enum",
            "STRUCT" => "Struct",
            "MAP" => "Map",
            "UNION" => "Union",
            "\"NULL\"" or "NULL" => "SqlNull",
            _ => head,
        };
    }

    private static IArrowType ArrowTypeOf(string column, string duckType) => duckType switch
    {
        "Varchar" or "Uuid" or "Time" or "TimeTz" or "Interval" or "Enum" or "Bit" => StringType.Default,
        "Boolean" => BooleanType.Default,
        "TinyInt" => Int8Type.Default,
        "SmallInt" => Int16Type.Default,
        "Integer" => Int32Type.Default,
        "BigInt" or "HugeInt" => Int64Type.Default,
        "UnsignedTinyInt" => UInt8Type.Default,
        "UnsignedSmallInt" => UInt16Type.Default,
        "UnsignedInteger" => UInt32Type.Default,
        "UnsignedBigInt" => UInt64Type.Default,
        "Float" => FloatType.Default,
        "Double" or "Decimal" => DoubleType.Default,
        "Date" => Date32Type.Default,
        "Timestamp" or "TimestampS" or "TimestampMs" or "TimestampNs" => new TimestampType(TimeUnit.Microsecond, (string?)null),
        "TimestampTz" => new TimestampType(TimeUnit.Microsecond, "UTC"),
        "Blob" => BinaryType.Default,
        "SqlNull" or "Invalid" => StringType.Default,
        _ => throw LakehouseException.Invalid(
            $"column '{column}' has the engine type {duckType.ToUpperInvariant()}, which SQL over Flight does not serve: cast it (e.g. CAST({column} AS VARCHAR))"),
    };

    /// <summary>Rows appended one at a time into typed builders; <see cref="Build"/> cuts a batch and starts the next.</summary>
    internal sealed class BatchBuilder(Schema schema)
    {
        private readonly Func<IColumn>[] _factories = schema.FieldsList.Select(f => Factory(f.DataType, f.Metadata?.GetValueOrDefault(TypeNameKey))).ToArray();
        private IColumn[]? _columns;

        public int Length { get; private set; }

        public void Append(DbDataReader reader)
        {
            _columns ??= _factories.Select(f => f()).ToArray();
            for (var i = 0; i < _columns.Length; i++)
            {
                if (reader.IsDBNull(i))
                {
                    _columns[i].AppendNull();
                }
                else
                {
                    _columns[i].Append(reader, i);
                }
            }
            Length++;
        }

        public RecordBatch Build()
        {
            var columns = _columns ?? _factories.Select(f => f()).ToArray();
            var batch = new RecordBatch(schema, columns.Select(c => c.Build()), Length);
            _columns = null;
            Length = 0;
            return batch;
        }

        private static Func<IColumn> Factory(IArrowType type, string? duckType) => type switch
        {
            DoubleType when duckType == "DOUBLE" => () => new Column<DoubleArray.Builder>(new(), (b, r, i) => b.Append(r.GetDouble(i)), b => b.AppendNull(), b => b.Build()),
            Int64Type when duckType == "BIGINT" => () => new Column<Int64Array.Builder>(new(), (b, r, i) => b.Append(r.GetInt64(i)), b => b.AppendNull(), b => b.Build()),
            StringType => () => new Column<StringArray.Builder>(new(), (b, r, i) => b.Append(r.GetValue(i).ToString()), b => b.AppendNull(), b => b.Build()),
            BooleanType => () => new Column<BooleanArray.Builder>(new(), (b, r, i) => b.Append(r.GetBoolean(i)), b => b.AppendNull(), b => b.Build()),
            Int8Type => () => new Column<Int8Array.Builder>(new(), (b, r, i) => b.Append(r.GetFieldValue<sbyte>(i)), b => b.AppendNull(), b => b.Build()),
            Int16Type => () => new Column<Int16Array.Builder>(new(), (b, r, i) => b.Append(r.GetInt16(i)), b => b.AppendNull(), b => b.Build()),
            Int32Type => () => new Column<Int32Array.Builder>(new(), (b, r, i) => b.Append(r.GetInt32(i)), b => b.AppendNull(), b => b.Build()),
            Int64Type => () => new Column<Int64Array.Builder>(new(), (b, r, i) => b.Append(Int64Of(r, i)), b => b.AppendNull(), b => b.Build()),
            UInt8Type => () => new Column<UInt8Array.Builder>(new(), (b, r, i) => b.Append(r.GetByte(i)), b => b.AppendNull(), b => b.Build()),
            UInt16Type => () => new Column<UInt16Array.Builder>(new(), (b, r, i) => b.Append(r.GetFieldValue<ushort>(i)), b => b.AppendNull(), b => b.Build()),
            UInt32Type => () => new Column<UInt32Array.Builder>(new(), (b, r, i) => b.Append(r.GetFieldValue<uint>(i)), b => b.AppendNull(), b => b.Build()),
            UInt64Type => () => new Column<UInt64Array.Builder>(new(), (b, r, i) => b.Append(r.GetFieldValue<ulong>(i)), b => b.AppendNull(), b => b.Build()),
            FloatType => () => new Column<FloatArray.Builder>(new(), (b, r, i) => b.Append(r.GetFloat(i)), b => b.AppendNull(), b => b.Build()),
            DoubleType => () => new Column<DoubleArray.Builder>(new(), (b, r, i) => b.Append(Convert.ToDouble(r.GetValue(i), System.Globalization.CultureInfo.InvariantCulture)), b => b.AppendNull(), b => b.Build()),
            Date32Type => () => new Column<Date32Array.Builder>(new(), (b, r, i) => b.Append(r.GetFieldValue<DateOnly>(i)), b => b.AppendNull(), b => b.Build()),
            TimestampType ts => () => new Column<TimestampArray.Builder>(new(ts), (b, r, i) => b.Append(Instant(r.GetDateTime(i))), b => b.AppendNull(), b => b.Build()),
            BinaryType => () => new Column<BinaryArray.Builder>(new(), (b, r, i) => b.Append(Bytes(r, i)), b => b.AppendNull(), b => b.Build()),
            _ => throw new NotSupportedException($"no column builder for {type.Name}"),
        };

        private static long Int64Of(DbDataReader reader, int ordinal) => reader.GetValue(ordinal) switch
        {
            long l => l,
            BigInteger big when big >= long.MinValue && big <= long.MaxValue => (long)big,
            BigInteger => throw LakehouseException.Invalid(
                $"column '{reader.GetName(ordinal)}' holds a value beyond int64: cast it to DOUBLE (e.g. CAST(SUM(x) AS DOUBLE))"),
            var other => Convert.ToInt64(other, System.Globalization.CultureInfo.InvariantCulture),
        };

        /// <summary>A timestamp as an instant: a zoned value is UTC (converted if the provider made it local); a plain one is read as UTC wall time.</summary>
        private static DateTimeOffset Instant(DateTime value) => value.Kind switch
        {
            DateTimeKind.Local => new DateTimeOffset(value.ToUniversalTime(), TimeSpan.Zero),
            _ => new DateTimeOffset(DateTime.SpecifyKind(value, DateTimeKind.Utc), TimeSpan.Zero),
        };

        private static byte[] Bytes(DbDataReader reader, int ordinal)
        {
            using var stream = reader.GetStream(ordinal);
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return copy.ToArray();
        }
    }

    private interface IColumn
    {
        void Append(DbDataReader reader, int ordinal);

        void AppendNull();

        IArrowArray Build();
    }

    private sealed class Column<TBuilder>(TBuilder builder, Action<TBuilder, DbDataReader, int> append, Action<TBuilder> appendNull,
        Func<TBuilder, IArrowArray> build) : IColumn
    {
        public void Append(DbDataReader reader, int ordinal) => append(builder, reader, ordinal);

        public void AppendNull() => appendNull(builder);

        public IArrowArray Build() => build(builder);
    }
}
