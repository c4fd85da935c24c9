using System.Globalization;
using System.Text;
using Apache.Arrow.Types;
using DuckDB.NET.Data;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// Opens a DuckDB instance per query over one committed version of the lake: each catalogue table is a view
/// <c>&lt;layer&gt;.&lt;table&gt;</c> over <c>read_parquet</c> of exactly that version's files (in catalog
/// <see cref="Catalog"/>), then the instance is shut off from everything else (docs/decisions.md D39): only those files
/// may be read, nothing written, no extension installed or loaded, and no setting changed after the limits are set.
/// </summary>
internal sealed class SqlEngine(LakeStore store, LakehouseServerOptions options)
{
    /// <summary>The one catalog SQL sees; <c>lakehouse.silver.prices_daily</c> and <c>silver.prices_daily</c> name the same view.</summary>
    public const string Catalog = "lakehouse";

    public SqlOptions Options => options.Sql;

    public LakeStore Store => store;

    /// <summary>Slots of <see cref="SqlOptions.MaxConcurrentQueries"/>: each open session holds one until disposed.</summary>
    private readonly SemaphoreSlim _slots = new(options.Sql.MaxConcurrentQueries, options.Sql.MaxConcurrentQueries);

    /// <exception cref="LakehouseException">ResourceExhausted when no slot frees within <see cref="SqlOptions.QueueSeconds"/>.</exception>
    public async Task<SqlSession> OpenAsync(CancellationToken cancellationToken)
    {
        if (!store.IsReady)
        {
            await store.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        if (!await _slots.WaitAsync(TimeSpan.FromSeconds(options.Sql.QueueSeconds), cancellationToken).ConfigureAwait(false))
        {
            throw new LakehouseException(LakehouseErrorKind.ResourceExhausted,
                $"{options.Sql.MaxConcurrentQueries} SQL queries are running (Lakehouse:Sql:MaxConcurrentQueries) and none ended within "
                + $"{options.Sql.QueueSeconds} s (Lakehouse:Sql:QueueSeconds): retry later");
        }
        DuckDBConnection? connection = null;
        try
        {
            var files = store.CurrentFiles();
            connection = new DuckDBConnection("DataSource=:memory:");
            connection.Open();
            using (var command = connection.CreateCommand())
            {
                command.CommandText = SetupScript(files, options.Sql);
                command.ExecuteNonQuery();
            }
            return new SqlSession(connection, files.Version, store.Paths.Root, options.Sql, () => _slots.Release());
        }
        catch
        {
            connection?.Dispose();
            _slots.Release();
            throw;
        }
    }

    /// <summary>The statements that build one query's instance; the last two lock it.</summary>
    internal static string SetupScript(LakeFiles files, SqlOptions limits)
    {
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"SET threads = {limits.Threads};\n");
        sql.Append(CultureInfo.InvariantCulture, $"SET memory_limit = '{limits.MemoryLimitMb}MB';\n");
        sql.Append("SET temp_directory = '';\n");
        sql.Append("SET autoinstall_known_extensions = false;\nSET autoload_known_extensions = false;\n");
        sql.Append(CultureInfo.InvariantCulture, $"ATTACH ':memory:' AS {Catalog};\nUSE {Catalog};\n");
        foreach (var layer in files.Tables.Select(t => Layers.Name(t.Table.Layer)).Distinct())
        {
            sql.Append(CultureInfo.InvariantCulture, $"CREATE SCHEMA {Quote(layer)};\n");
        }
        foreach (var table in files.Tables)
        {
            sql.Append(CultureInfo.InvariantCulture, $"CREATE VIEW {Quote(Layers.Name(table.Table.Layer))}.{Quote(table.Table.Name)} AS ");
            sql.Append(table.Paths.Count == 0 ? EmptySelect(table.Table) : $"SELECT * FROM read_parquet({PathList(table.Paths)}, union_by_name = true)");
            sql.Append(";\n");
        }
        var all = files.Tables.SelectMany(t => t.Paths).ToArray();
        if (all.Length > 0)
        {
            sql.Append(CultureInfo.InvariantCulture, $"SET allowed_paths = {PathList(all)};\n");
        }
        sql.Append("SET enable_external_access = false;\nSET lock_configuration = true;\n");
        return sql.ToString();
    }

    /// <summary>A table with no data file yet: its columns, typed, and no rows.</summary>
    private static string EmptySelect(TableDefinition table) =>
        "SELECT " + string.Join(", ", table.Schema.FieldsList.Select(f => $"CAST(NULL AS {SqlTypeOf(f.DataType)}) AS {Quote(f.Name)}")) + " LIMIT 0";

    internal static string SqlTypeOf(IArrowType type) => type switch
    {
        StringType => "VARCHAR",
        Date32Type => "DATE",
        DoubleType => "DOUBLE",
        FloatType => "FLOAT",
        Int64Type => "BIGINT",
        Int32Type => "INTEGER",
        BooleanType => "BOOLEAN",
        TimestampType { Timezone: { Length: > 0 } } => "TIMESTAMP WITH TIME ZONE",
        TimestampType => "TIMESTAMP",
        _ => throw new NotSupportedException($"no SQL type for Arrow {type.Name}"),
    };

    private static string PathList(IEnumerable<string> paths) => "[" + string.Join(", ", paths.Select(Literal)) + "]";

    private static string Literal(string value) => "'" + value.Replace("'", "''", StringComparison.Ordinal) + "'";

    internal static string Quote(string identifier) => "\"" + identifier.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
