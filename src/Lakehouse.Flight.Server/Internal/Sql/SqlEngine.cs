using System.Diagnostics;
using System.Globalization;
using System.Text;
using Apache.Arrow.Types;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// One locked DuckDB instance per committed lake version (<see cref="SqlInstance"/>), shared by the queries at that version,
/// each on its own connection (docs/decisions.md D40): each catalogue table is a view <c>&lt;layer&gt;.&lt;table&gt;</c> over
/// <c>read_parquet</c> of exactly that version's files (in catalog <see cref="Catalog"/>), then the instance is shut off from
/// everything else (D39): only those files may be read, nothing written, no extension installed or loaded, and no setting
/// changed after the limits are set. A query that finds a newer version current builds that version's instance and makes it
/// the current one; the older one closes when its last query ends.
/// </summary>
internal sealed class SqlEngine(LakeStore store, LakehouseServerOptions options, ILogger<SqlEngine> logger) : IDisposable
{
    /// <summary>The one catalog SQL sees; <c>lakehouse.silver.prices_daily</c> and <c>silver.prices_daily</c> name the same view.</summary>
    public const string Catalog = "lakehouse";

    public SqlOptions Options => options.Sql;

    public LakeStore Store => store;

    /// <summary>Slots of <see cref="SqlOptions.MaxConcurrentQueries"/>: each open session holds one until disposed.</summary>
    private readonly SemaphoreSlim _slots = new(options.Sql.MaxConcurrentQueries, options.Sql.MaxConcurrentQueries);

    /// <summary>One build of an instance at a time: queries that find the same new version wait for it, not build it twice.</summary>
    private readonly SemaphoreSlim _build = new(1, 1);

    private SqlInstance? _current;

    private int _alive;

    /// <summary>Instances opened so far (tests: queries at one version share one).</summary>
    internal long InstancesOpened { get; private set; }

    /// <summary>Instances open now: the current one and older ones whose queries have not ended (tests).</summary>
    internal int InstancesAlive => Volatile.Read(ref _alive);

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
        SqlInstance? instance = null;
        try
        {
            instance = await CurrentAsync(cancellationToken).ConfigureAwait(false);
            var connection = instance.Connect();
            var held = instance;
            return new SqlSession(connection, instance.Version, store.Paths.Root, options.Sql, () =>
            {
                held.Release();
                _slots.Release();
            }, instance.Files);
        }
        catch
        {
            instance?.Release();
            _slots.Release();
            throw;
        }
    }

    /// <summary>The instance of the version current now, acquired for the caller (who releases it).</summary>
    private async Task<SqlInstance> CurrentAsync(CancellationToken cancellationToken)
    {
        var current = Volatile.Read(ref _current);
        if (current is not null && current.Version == store.Version && current.TryAcquire())
        {
            return current;
        }
        await _build.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            current = _current;
            var files = store.CurrentFiles();
            if (current is not null && current.Version == files.Version && current.TryAcquire())
            {
                return current;
            }
            var started = Stopwatch.GetTimestamp();
            var fresh = SqlInstance.Open(files, SetupScript(files, options.Sql), () => Interlocked.Decrement(ref _alive));
            Interlocked.Increment(ref _alive);
            InstancesOpened++;
            ServerLog.SqlInstanceOpened(logger, files.Version, files.Tables.Sum(t => t.Paths.Count), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
            fresh.TryAcquire();
            Volatile.Write(ref _current, fresh);
            // The engine's own reference to the older version: it closes once its last query ends.
            current?.Release();
            return fresh;
        }
        finally
        {
            _build.Release();
        }
    }

    /// <summary>Drops the engine's reference to the current instance (it closes once no query holds it).</summary>
    public void Dispose()
    {
        Interlocked.Exchange(ref _current, null)?.Release();
    }

    /// <summary>The statements that build one version's instance; the last two lock it.</summary>
    internal static string SetupScript(LakeFiles files, SqlOptions limits)
    {
        var sql = new StringBuilder();
        sql.Append(CultureInfo.InvariantCulture, $"SET threads = {limits.Threads};\n");
        sql.Append(CultureInfo.InvariantCulture, $"SET memory_limit = '{limits.MemoryLimitMb}MB';\n");
        sql.Append("SET temp_directory = '';\n");
        sql.Append("SET autoinstall_known_extensions = false;\nSET autoload_known_extensions = false;\n");
        // Parquet footers read once per instance, not at every query's bind (the instance serves many queries).
        sql.Append("SET parquet_metadata_cache = true;\n");
        sql.Append(CultureInfo.InvariantCulture, $"ATTACH ':memory:' AS {Catalog};\nUSE {Catalog};\n");
        foreach (var layer in files.Tables.Select(t => Layers.Name(t.Table.Layer)).Distinct())
        {
            sql.Append(CultureInfo.InvariantCulture, $"CREATE SCHEMA {Quote(layer)};\n");
        }
        // Without union_by_name: every file of a table has the catalogue's columns (a write missing one is refused), so
        // the first file's schema is every file's, and a bind need not read every footer.
        foreach (var table in files.Tables)
        {
            sql.Append(CultureInfo.InvariantCulture, $"CREATE VIEW {Quote(Layers.Name(table.Table.Layer))}.{Quote(table.Table.Name)} AS ");
            sql.Append(table.Paths.Count == 0 ? EmptySelect(table.Table) : $"SELECT * FROM read_parquet({PathList(table.Paths)})");
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
