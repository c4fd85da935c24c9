using System.Diagnostics;
using System.Globalization;
using System.Text;
using Apache.Arrow;
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
    public Task<SqlSession> OpenAsync(CancellationToken cancellationToken) => OpenAsync(null, cancellationToken);

    /// <summary>
    /// A session at the current version, or as of <paramref name="asOf"/> (a query's <c>-- lakehouse:</c> hint, <see cref="SqlAsOf"/>):
    /// that moment's files, resolved as a DoGet as of it would be (D38, D44).
    /// </summary>
    /// <exception cref="LakehouseException">
    /// ResourceExhausted when no slot frees within <see cref="SqlOptions.QueueSeconds"/>; InvalidArgument for a version that does not
    /// exist, an instant in the future or an unknown snapshot.
    /// </exception>
    public async Task<SqlSession> OpenAsync(ReadAsOf? asOf, CancellationToken cancellationToken)
    {
        if (!store.IsReady)
        {
            await store.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        if (asOf is null && options.Sql.WaitForUploads)
        {
            await UploadsAppliedAsync(cancellationToken).ConfigureAwait(false);
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
            long version;
            if (asOf is null)
            {
                instance = await CurrentAsync(cancellationToken).ConfigureAwait(false);
                version = instance.Version;
            }
            else
            {
                // The version asked for, not the instance's: two versions with the same files share one instance.
                (instance, version) = await AsOfAsync(asOf, cancellationToken).ConfigureAwait(false);
            }
            var connection = instance.Connect();
            var held = instance;
            return new SqlSession(connection, version, store.Paths.Root, options.Sql, () =>
            {
                held.Release();
                _slots.Release();
            }, instance.Files, instance.Unreadable);
        }
        catch
        {
            instance?.Release();
            _slots.Release();
            throw;
        }
    }

    /// <summary>
    /// The fast path's plan of a statement (decisions D47): a selection a DoGet ticket expresses, at the current version or
    /// as of <paramref name="moment"/>; null when the engine must answer it (another shape, the fast path turned off, or the
    /// upload wait turned off for a read of the current version).
    /// </summary>
    public SqlFastPath.Plan? FastPlan(string sql, IReadOnlyList<object?> parameters, ReadAsOf? moment) =>
        options.Sql.FastPath && (moment is not null || options.Sql.WaitForUploads) ? SqlFastPath.TryPlan(sql, parameters, store.Catalog) is { } plan
            ? plan with { Query = plan.Query.WithAsOf(moment) }
            : null
        : null;

    /// <summary>
    /// The rows of a fast-path plan exactly as one committed version holds them, after the uploads acknowledged before it are
    /// applied (as <see cref="OpenAsync(ReadAsOf?, CancellationToken)"/> waits for them); null when the store would not read
    /// them at one version (more rows than it resolves up front, commits landing throughout): the engine answers then.
    /// </summary>
    public async Task<OneVersionRead?> ReadFastAsync(SqlFastPath.Plan plan, CancellationToken cancellationToken)
    {
        if (!store.IsReady)
        {
            await store.WaitReadyAsync(cancellationToken).ConfigureAwait(false);
        }
        if (plan.Query.AsOf is not null)
        {
            // A moment in the past is one version by construction: its files never change (D38); the rows stream as read.
            var (version, pinned) = store.PinAsOf(plan.Query);
            Interlocked.Increment(ref _fastServed);
            return new OneVersionRead(version, -1, plan.Schema, store.Read(pinned, cancellationToken));
        }
        await UploadsAppliedAsync(cancellationToken).ConfigureAwait(false);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Sql.TimeoutSeconds));
        OneVersionRead? read;
        try
        {
            // Resolved here, every row before the first is sent: under the query's timeout as the engine's planning is.
            read = store.TryReadOneVersion(plan.Query, timeout.Token);
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw SqlSession.TimedOut(options.Sql);
        }
        if (read is null)
        {
            Interlocked.Increment(ref _fastDeclined);
        }
        else
        {
            Interlocked.Increment(ref _fastServed);
        }
        return read;
    }

    /// <summary>
    /// A fast-path plan's schema for GetFlightInfo and GetSchema: the catalogue's, after its moment (if any) is checked, so a
    /// version that does not exist or was vacuumed is refused there, as the engine path refuses it, not at DoGet.
    /// </summary>
    public Schema FastSchema(SqlFastPath.Plan plan)
    {
        if (plan.Query.AsOf is not null)
        {
            store.PinAsOf(plan.Query);
        }
        return plan.Schema;
    }

    private long _fastServed;
    private long _fastDeclined;

    /// <summary>Statements the fast path read (tests: the shapes it claims do not quietly go to the engine).</summary>
    internal long FastServed => Interlocked.Read(ref _fastServed);

    /// <summary>Fast-path plans the store would not read at one version, handed to the engine.</summary>
    internal long FastDeclined => Interlocked.Read(ref _fastDeclined);

    /// <summary>
    /// Read-your-writes (D45): the uploads acknowledged before the query are applied first, so the version the query then
    /// pins holds them, as a DoGet would show them. Bounded by the query's timeout.
    /// </summary>
    private async Task UploadsAppliedAsync(CancellationToken cancellationToken)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(TimeSpan.FromSeconds(options.Sql.TimeoutSeconds));
        try
        {
            await store.WaitForAcknowledgedUploadsAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new LakehouseException(LakehouseErrorKind.Unavailable,
                $"uploads acknowledged before this query were still being applied after {options.Sql.TimeoutSeconds} s (Lakehouse:Sql:TimeoutSeconds): "
                + "retry later (upload-status shows their progress), or set Lakehouse:Sql:WaitForUploads=false to query the applied rows only");
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
            ObjectDisposedException.ThrowIf(_disposed, this);
            current = _current;
            var files = store.CurrentFiles();
            if (current is not null && current.Version == files.Version && current.TryAcquire())
            {
                return current;
            }
            var fresh = Open(files, PinKey(files));
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

    /// <summary>
    /// The instance of the files as of <paramref name="asOf"/>, acquired for the caller: the current one when that is the
    /// current version, else one of the last <see cref="PinnedInstances"/> as-of instances (a backtest asks the same snapshot
    /// again and again), else a new one, which evicts the least recently used.
    /// </summary>
    private async Task<(SqlInstance Instance, long Version)> AsOfAsync(ReadAsOf asOf, CancellationToken cancellationToken)
    {
        var files = store.FilesAsOf(asOf);
        var key = PinKey(files);
        await _build.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            var current = _current;
            if (current is not null && current.Key == key && current.TryAcquire())
            {
                return (current, files.Version);
            }
            var hit = _pinned.FindIndex(p => p.Key == key);
            if (hit >= 0)
            {
                var pinned = _pinned[hit];
                _pinned.RemoveAt(hit);
                _pinned.Add(pinned);
                if (pinned.TryAcquire())
                {
                    return (pinned, files.Version);
                }
            }
            var fresh = Open(files, key);
            fresh.TryAcquire();
            _pinned.Add(fresh);
            if (_pinned.Count > PinnedInstances)
            {
                _pinned[0].Release();
                _pinned.RemoveAt(0);
            }
            return (fresh, files.Version);
        }
        finally
        {
            _build.Release();
        }
    }

    /// <summary>As-of instances kept open for the next query at the same moment.</summary>
    internal const int PinnedInstances = 4;

    private readonly List<SqlInstance> _pinned = [];

    /// <summary>Set under <see cref="_build"/> by <see cref="Dispose"/>: no instance is built or handed out after it.</summary>
    private bool _disposed;

    private SqlInstance Open(LakeFiles files, string key)
    {
        var started = Stopwatch.GetTimestamp();
        var fresh = SqlInstance.Open(files, SetupScript(files, options.Sql), () => Interlocked.Decrement(ref _alive), key);
        Interlocked.Increment(ref _alive);
        InstancesOpened++;
        ServerLog.SqlInstanceOpened(logger, files.Version, files.Tables.Sum(t => t.Paths.Count), (long)Stopwatch.GetElapsedTime(started).TotalMilliseconds);
        return fresh;
    }

    /// <summary>What makes two file lists the same instance: every table's files, or why it cannot be read.</summary>
    internal static string PinKey(LakeFiles files)
    {
        var key = new StringBuilder();
        foreach (var t in files.Tables)
        {
            key.Append(t.Table.Id).Append('\n');
            if (t.Unreadable is { } why)
            {
                key.Append('!').Append(why.Message).Append('\n');
            }
            foreach (var p in t.Paths)
            {
                key.Append(p).Append('\n');
            }
        }
        return Convert.ToHexString(System.Security.Cryptography.SHA256.HashData(Encoding.UTF8.GetBytes(key.ToString())));
    }

    /// <summary>Drops the engine's references to the current and the as-of instances (each closes once no query holds it).</summary>
    public void Dispose()
    {
        // Under the build lock, so no build in progress installs an instance after the references are dropped.
        _build.Wait();
        try
        {
            if (_disposed)
            {
                return;
            }
            _disposed = true;
            Interlocked.Exchange(ref _current, null)?.Release();
            foreach (var p in _pinned)
            {
                p.Release();
            }
            _pinned.Clear();
        }
        finally
        {
            _build.Release();
        }
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
            sql.Append(table.Unreadable is { } why ? Refused(table.Table, why)
                : table.Paths.Count == 0 ? EmptySelect(table.Table)
                : $"SELECT * FROM read_parquet({PathList(table.Paths)})");
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

    /// <summary>
    /// A table that cannot be read at the instance's moment: its columns, typed, and an error raised when a query reads it
    /// (the session answers it with the table's own error kind and message, <see cref="SqlSession"/>).
    /// </summary>
    /// <remarks>
    /// Every column is the error and so is the filter: a query that names a column raises it even where the optimizer folds
    /// a filter on it (a constant NULL column compared with a value would let it answer no rows without running anything),
    /// and a <c>count(*)</c>, which names none, raises it through the filter.
    /// </remarks>
    private static string Refused(TableDefinition table, LakehouseException why)
    {
        var error = $"error({Literal(RefusalMarker + why.Message)})";
        return "SELECT " + string.Join(", ", table.Schema.FieldsList.Select(f => $"CAST({error} AS {SqlTypeOf(f.DataType)}) AS {Quote(f.Name)}"))
            + $" FROM range(1) WHERE {error} IS NULL";
    }

    /// <summary>Starts the message of a refused table's error, so the session can tell it from the engine's own.</summary>
    internal const string RefusalMarker = "lakehouse-refused: ";

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
