using Apache.Arrow;
using Apache.Arrow.Types;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// CommandGetSqlInfo's answer (ids and value kinds of FlightSql.proto's SqlInfo enum; values as a dense union) and
/// CommandGetXdbcTypeInfo's (the engine types the lake's tables use).
/// </summary>
internal static class FlightSqlInfo
{
    private static readonly UnionType ValueType = new(
    [
        new Field("string_value", StringType.Default, true),
        new Field("bool_value", BooleanType.Default, true),
        new Field("bigint_value", Int64Type.Default, true),
        new Field("int32_bitmask", Int32Type.Default, true),
        new Field("string_list", new ListType(new Field("string_data", StringType.Default, true)), true),
        new Field("int32_to_int32_list_map", new MapType(new Field("key", Int32Type.Default, false),
            new Field("value", new ListType(new Field("$data$", Int32Type.Default, true)), true)), true),
    ], [0, 1, 2, 3, 4, 5], UnionMode.Dense);

    public static readonly Schema SqlInfoSchema = new Schema.Builder()
        .Field(new Field("info_name", UInt32Type.Default, false))
        .Field(new Field("value", ValueType, false))
        .Build();

    /// <summary>What this server answers: (id, value) with value a string, bool or int32.</summary>
    public static IReadOnlyList<(uint Id, object Value)> Values { get; } =
    [
        (0, "Lakehouse.Flight"),              // FLIGHT_SQL_SERVER_NAME
        (1, FlightSqlMetadata.ServerVersion), // FLIGHT_SQL_SERVER_VERSION
        (2, "23.0.0"),                        // FLIGHT_SQL_SERVER_ARROW_VERSION (the Arrow library's)
        (3, true),                            // FLIGHT_SQL_SERVER_READ_ONLY: SQL reads; the lake is written by ingest and uploads
        (4, true),                            // FLIGHT_SQL_SERVER_SQL
        (5, false),                           // FLIGHT_SQL_SERVER_SUBSTRAIT
        (8, 0),                               // FLIGHT_SQL_SERVER_TRANSACTION: none
        (9, true),                            // FLIGHT_SQL_SERVER_CANCEL
        (10, true),                           // FLIGHT_SQL_SERVER_BULK_INGESTION: CommandStatementIngest into bronze (D41)
        (11, false),                          // FLIGHT_SQL_SERVER_INGEST_TRANSACTIONS_SUPPORTED
        (100, 0),                             // FLIGHT_SQL_SERVER_STATEMENT_TIMEOUT (prepared statements expire; set below per server)
        (101, 0),                             // FLIGHT_SQL_SERVER_TRANSACTION_TIMEOUT
        (500, false),                         // SQL_DDL_CATALOG
        (501, false),                         // SQL_DDL_SCHEMA
        (502, false),                         // SQL_DDL_TABLE
        (503, 1),                             // SQL_IDENTIFIER_CASE: case-insensitive
        (504, "\""),                          // SQL_IDENTIFIER_QUOTE_CHAR
        (505, 1),                             // SQL_QUOTED_IDENTIFIER_CASE: case-insensitive (DuckDB)
        (506, true),                          // SQL_ALL_TABLES_ARE_SELECTABLE
        (507, 3),                             // SQL_NULL_ORDERING: nulls sorted at end
        (513, "\\"),                          // SQL_SEARCH_STRING_ESCAPE
        (515, true),                          // SQL_SUPPORTS_COLUMN_ALIASING
        (516, true),                          // SQL_NULL_PLUS_NULL_IS_NULL
        (520, true),                          // SQL_SUPPORTS_EXPRESSIONS_IN_ORDER_BY
        (525, 3),                             // SQL_SUPPORTED_GRAMMAR: minimum | core
        (526, 3),                             // SQL_ANSI92_SUPPORTED_LEVEL: entry | intermediate
        (528, 2),                             // SQL_OUTER_JOINS_SUPPORT_LEVEL: full
        (529, "schema"),                      // SQL_SCHEMA_TERM (a schema is a layer: bronze, silver, gold)
        (531, "catalog"),                     // SQL_CATALOG_TERM
        (532, true),                          // SQL_CATALOG_AT_START
    ];

    public static RecordBatch SqlInfo(IReadOnlyCollection<uint> requested, int statementTimeoutMs)
    {
        var rows = Values.Select(v => v.Id == 100 ? (v.Id, (object)statementTimeoutMs) : v)
            .Where(v => requested.Count == 0 || requested.Contains(v.Id)).ToArray();
        var names = new UInt32Array.Builder();
        var strings = new StringArray.Builder();
        var bools = new BooleanArray.Builder();
        var ints = new Int32Array.Builder();
        var typeIds = new ArrowBuffer.Builder<byte>();
        var offsets = new ArrowBuffer.Builder<int>();
        foreach (var (id, value) in rows)
        {
            names.Append(id);
            switch (value)
            {
                case string s:
                    typeIds.Append(0);
                    offsets.Append(strings.Length);
                    strings.Append(s);
                    break;
                case bool b:
                    typeIds.Append(1);
                    offsets.Append(bools.Length);
                    bools.Append(b);
                    break;
                case int i:
                    typeIds.Append(3);
                    offsets.Append(ints.Length);
                    ints.Append(i);
                    break;
            }
        }
        var children = new IArrowArray[]
        {
            strings.Build(), bools.Build(), new Int64Array.Builder().Build(), ints.Build(),
            new ListArray.Builder(new Field("string_data", StringType.Default, true)).Build(),
            EmptyMap((MapType)ValueType.Fields[5].DataType),
        };
        var union = new DenseUnionArray(ValueType, rows.Length, children, typeIds.Build(), offsets.Build(), 0, 0);
        return new RecordBatch(SqlInfoSchema, [names.Build(), union], rows.Length);
    }

    private static MapArray EmptyMap(MapType type)
    {
        var entries = new StructArray(type.KeyValueType, 0,
            [new Int32Array.Builder().Build(), new ListArray.Builder(new Field("$data$", Int32Type.Default, true)).Build()], ArrowBuffer.Empty);
        return new MapArray(type, 0, new ArrowBuffer.Builder<int>().Append(0).Build(), entries, ArrowBuffer.Empty, 0, 0);
    }

    public static readonly Schema XdbcTypeInfoSchema = new Schema.Builder()
        .Field(new Field("type_name", StringType.Default, false))
        .Field(new Field("data_type", Int32Type.Default, false))
        .Field(new Field("column_size", Int32Type.Default, true))
        .Field(new Field("literal_prefix", StringType.Default, true))
        .Field(new Field("literal_suffix", StringType.Default, true))
        .Field(new Field("create_params", new ListType(new Field("item", StringType.Default, false)), true))
        .Field(new Field("nullable", Int32Type.Default, false))
        .Field(new Field("case_sensitive", BooleanType.Default, false))
        .Field(new Field("searchable", Int32Type.Default, false))
        .Field(new Field("unsigned_attribute", BooleanType.Default, true))
        .Field(new Field("fixed_prec_scale", BooleanType.Default, false))
        .Field(new Field("auto_increment", BooleanType.Default, true))
        .Field(new Field("local_type_name", StringType.Default, true))
        .Field(new Field("minimum_scale", Int32Type.Default, true))
        .Field(new Field("maximum_scale", Int32Type.Default, true))
        .Field(new Field("sql_data_type", Int32Type.Default, false))
        .Field(new Field("datetime_subcode", Int32Type.Default, true))
        .Field(new Field("num_prec_radix", Int32Type.Default, true))
        .Field(new Field("interval_precision", Int32Type.Default, true))
        .Build();

    /// <summary>(name, XDBC data type, column size, literal prefix/suffix, sql_data_type, datetime subcode, radix), ordered by data type.</summary>
    private static readonly (string Name, int DataType, int? Size, string? Prefix, int SqlDataType, int? Subcode, int? Radix, bool? Unsigned)[] Types =
    [
        ("BOOLEAN", -7, 1, null, -7, null, null, null),
        ("BIGINT", -5, 19, null, -5, null, 10, false),
        ("INTEGER", 4, 10, null, 4, null, 10, false),
        ("DOUBLE", 8, 53, null, 8, null, 2, false),
        ("VARCHAR", 12, null, "'", 12, null, null, null),
        ("DATE", 91, 10, "DATE '", 9, 1, null, null),
        ("TIMESTAMP WITH TIME ZONE", 93, 32, "TIMESTAMPTZ '", 9, 3, null, null),
    ];

    public static RecordBatch XdbcTypeInfo(int? dataType)
    {
        var rows = Types.Where(t => dataType is null || t.DataType == dataType).ToArray();
        var nullStrings = new StringArray.Builder();
        var nullInts = new Int32Array.Builder();
        var createParams = new ListArray.Builder(new Field("item", StringType.Default, false));
        foreach (var _ in rows)
        {
            nullStrings.AppendNull();
            nullInts.AppendNull();
            createParams.AppendNull();
        }
        IArrowArray NullStrings() => nullStrings.Build();
        IArrowArray Ints(IEnumerable<int?> values)
        {
            var b = new Int32Array.Builder();
            foreach (var v in values)
            {
                if (v is { } x) { b.Append(x); } else { b.AppendNull(); }
            }
            return b.Build();
        }
        IArrowArray Bools(IEnumerable<bool?> values)
        {
            var b = new BooleanArray.Builder();
            foreach (var v in values)
            {
                if (v is { } x) { b.Append(x); } else { b.AppendNull(); }
            }
            return b.Build();
        }
        return new RecordBatch(XdbcTypeInfoSchema,
        [
            FlightSqlMetadata.Strings(rows.Select(t => t.Name)),
            Ints(rows.Select(t => (int?)t.DataType)),
            Ints(rows.Select(t => t.Size)),
            new StringArray.Builder().AppendRange(rows.Select(t => t.Prefix)).Build(),
            new StringArray.Builder().AppendRange(rows.Select(t => t.Prefix is null ? null : "'")).Build(),
            createParams.Build(),
            Ints(rows.Select(_ => (int?)1)),                   // NULLABILITY_NULLABLE
            Bools(rows.Select(t => (bool?)(t.Name == "VARCHAR"))),
            Ints(rows.Select(_ => (int?)3)),                   // SEARCHABLE_FULL
            Bools(rows.Select(t => t.Unsigned)),
            Bools(rows.Select(_ => (bool?)false)),
            Bools(rows.Select(_ => (bool?)null)),
            NullStrings(),
            Ints(rows.Select(_ => (int?)null)),
            Ints(rows.Select(_ => (int?)null)),
            Ints(rows.Select(t => (int?)t.SqlDataType)),
            Ints(rows.Select(t => t.Subcode)),
            Ints(rows.Select(t => t.Radix)),
            nullInts.Build(),
        ], rows.Length);
    }
}
