using System.Reflection;
using System.Text.RegularExpressions;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Protocol.Sql;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// The answers of Flight SQL's metadata commands, with the schemas FlightSql.proto fixes for each. SQL sees one catalog
/// (<see cref="SqlEngine.Catalog"/>), one schema per layer and one table per catalogue table. An empty-string catalog
/// or pattern is read as no filter: the Arrow C++ client sends empty strings for filters it was not given.
/// </summary>
internal static class FlightSqlMetadata
{
    public const string TableType = "TABLE";

    public static readonly Schema CatalogsSchema = new Schema.Builder().Field(Utf8("catalog_name", false)).Build();

    public static readonly Schema DbSchemasSchema = new Schema.Builder().Field(Utf8("catalog_name")).Field(Utf8("db_schema_name", false)).Build();

    public static readonly Schema TablesSchema = new Schema.Builder()
        .Field(Utf8("catalog_name")).Field(Utf8("db_schema_name")).Field(Utf8("table_name", false)).Field(Utf8("table_type", false)).Build();

    public static readonly Schema TablesWithSchemaSchema = new Schema.Builder()
        .Field(Utf8("catalog_name")).Field(Utf8("db_schema_name")).Field(Utf8("table_name", false)).Field(Utf8("table_type", false))
        .Field(new Field("table_schema", BinaryType.Default, false)).Build();

    public static readonly Schema TableTypesSchema = new Schema.Builder().Field(Utf8("table_type", false)).Build();

    public static readonly Schema PrimaryKeysSchema = new Schema.Builder()
        .Field(Utf8("catalog_name")).Field(Utf8("db_schema_name")).Field(Utf8("table_name", false)).Field(Utf8("column_name", false))
        .Field(Utf8("key_name")).Field(new Field("key_sequence", Int32Type.Default, false)).Build();

    public static RecordBatch Catalogs() => Batch(CatalogsSchema, 1, Strings(SqlEngine.Catalog));

    public static RecordBatch DbSchemas(TableCatalog catalog, CommandGetDbSchemas command)
    {
        var layers = CatalogMatches(command.HasCatalog ? command.Catalog : null)
            ? catalog.Tables.Select(t => Layers.Name(t.Layer)).Distinct().Where(Like(command.HasDbSchemaFilterPattern ? command.DbSchemaFilterPattern : null))
                .Order(StringComparer.Ordinal).ToArray()
            : [];
        return Batch(DbSchemasSchema, layers.Length, Strings(layers.Select(_ => SqlEngine.Catalog)), Strings(layers));
    }

    public static RecordBatch Tables(TableCatalog catalog, CommandGetTables command)
    {
        var layerMatch = Like(command.HasDbSchemaFilterPattern ? command.DbSchemaFilterPattern : null);
        var nameMatch = Like(command.HasTableNameFilterPattern ? command.TableNameFilterPattern : null);
        var typeMatch = command.TableTypes.Count == 0 || command.TableTypes.Any(t => t.Length == 0 || string.Equals(t, TableType, StringComparison.OrdinalIgnoreCase));
        var tables = CatalogMatches(command.HasCatalog ? command.Catalog : null) && typeMatch
            ? catalog.Tables.Where(t => layerMatch(Layers.Name(t.Layer)) && nameMatch(t.Name))
                .OrderBy(t => Layers.Name(t.Layer), StringComparer.Ordinal).ThenBy(t => t.Name, StringComparer.Ordinal).ToArray()
            : [];
        var columns = new List<IArrowArray>
        {
            Strings(tables.Select(_ => SqlEngine.Catalog)),
            Strings(tables.Select(t => Layers.Name(t.Layer))),
            Strings(tables.Select(t => t.Name)),
            Strings(tables.Select(_ => TableType)),
        };
        if (!command.IncludeSchema)
        {
            return Batch(TablesSchema, tables.Length, [.. columns]);
        }
        var schemas = new BinaryArray.Builder();
        foreach (var t in tables)
        {
            schemas.Append(SerializeSchema(TableSchema(t)).AsSpan());
        }
        columns.Add(schemas.Build());
        return Batch(TablesWithSchemaSchema, tables.Length, [.. columns]);
    }

    /// <summary>A table's columns with Flight SQL's column metadata (catalog, schema, table, engine type name).</summary>
    public static Schema TableSchema(TableDefinition table)
    {
        var builder = new Schema.Builder();
        foreach (var f in table.Schema.FieldsList)
        {
            builder.Field(new Field(f.Name, f.DataType, f.IsNullable,
            [
                new("ARROW:FLIGHT:SQL:CATALOG_NAME", SqlEngine.Catalog),
                new("ARROW:FLIGHT:SQL:DB_SCHEMA_NAME", Layers.Name(table.Layer)),
                new("ARROW:FLIGHT:SQL:TABLE_NAME", table.Name),
                new(DuckArrow.TypeNameKey, SqlEngine.SqlTypeOf(f.DataType)),
                new("ARROW:FLIGHT:SQL:IS_READ_ONLY", "1"),
                new("ARROW:FLIGHT:SQL:IS_SEARCHABLE", "1"),
            ]));
        }
        return builder.Build();
    }

    public static RecordBatch TableTypes() => Batch(TableTypesSchema, 1, Strings(TableType));

    /// <summary>The key columns of the named table (its catalogue key: <c>symbol, date</c> for prices), in key order.</summary>
    public static RecordBatch PrimaryKeys(TableCatalog catalog, CommandGetPrimaryKeys command)
    {
        var table = CatalogMatches(command.HasCatalog ? command.Catalog : null)
            ? catalog.Tables.FirstOrDefault(t => string.Equals(t.Name, command.Table, StringComparison.OrdinalIgnoreCase)
                && (!command.HasDbSchema || command.DbSchema.Length == 0 || string.Equals(Layers.Name(t.Layer), command.DbSchema, StringComparison.OrdinalIgnoreCase)))
            : null;
        var key = table?.Key ?? [];
        return Batch(PrimaryKeysSchema, key.Count,
            Strings(key.Select(_ => SqlEngine.Catalog)),
            Strings(key.Select(_ => Layers.Name(table!.Layer))),
            Strings(key.Select(_ => table!.Name)),
            Strings(key),
            Strings(key.Select(_ => $"{table!.Name}_pkey")),
            new Int32Array.Builder().AppendRange(Enumerable.Range(1, key.Count)).Build());
    }

    /// <summary>An IPC-encapsulated schema message, as Flight SQL carries schemas inside its results.</summary>
    public static byte[] SerializeSchema(Schema schema)
    {
        using var stream = new MemoryStream();
        using (var writer = new ArrowStreamWriter(stream, schema, leaveOpen: true))
        {
            writer.WriteStart();
        }
        return stream.ToArray();
    }

    public static string ServerVersion { get; } =
        typeof(FlightSqlMetadata).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0] ?? "0.0.0";

    private static bool CatalogMatches(string? catalog) =>
        string.IsNullOrEmpty(catalog) || string.Equals(catalog, SqlEngine.Catalog, StringComparison.OrdinalIgnoreCase);

    /// <summary>A SQL LIKE pattern (<c>%</c>, <c>_</c>, <c>\</c> escapes), case-insensitive like the engine's identifiers.</summary>
    internal static Func<string, bool> Like(string? pattern)
    {
        if (string.IsNullOrEmpty(pattern))
        {
            return _ => true;
        }
        var regex = new System.Text.StringBuilder("^");
        for (var i = 0; i < pattern.Length; i++)
        {
            var c = pattern[i];
            if (c == '\\' && i + 1 < pattern.Length)
            {
                regex.Append(Regex.Escape(pattern[++i].ToString()));
            }
            else
            {
                regex.Append(c switch { '%' => ".*", '_' => ".", _ => Regex.Escape(c.ToString()) });
            }
        }
        var compiled = new Regex(regex.Append('$').ToString(), RegexOptions.IgnoreCase | RegexOptions.CultureInvariant | RegexOptions.Singleline,
            TimeSpan.FromSeconds(1));
        return compiled.IsMatch;
    }

    internal static Field Utf8(string name, bool nullable = true) => new(name, StringType.Default, nullable);

    internal static StringArray Strings(params IEnumerable<string> values) => new StringArray.Builder().AppendRange(values).Build();

    internal static RecordBatch Batch(Schema schema, int length, params IArrowArray[] columns) => new(schema, columns, length);
}
