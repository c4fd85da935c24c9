using DuckDB.NET.Data;
using DuckDB.NET.Native;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// One locked DuckDB instance over one lake version's files, counted: the engine holds one reference while the version is
/// current, each query one more; the last release closes it. Queries get their own connection (<see cref="Connect"/>): its
/// default catalog, its running statement and its interrupt are its own, and the locked configuration is the instance's.
/// </summary>
internal sealed class SqlInstance
{
    private readonly DuckDBConnection _root;
    private readonly Action _closed;
    private int _references = 1;

    private SqlInstance(DuckDBConnection root, long version, Action closed, string key)
    {
        _root = root;
        _closed = closed;
        Version = version;
        Key = key;
    }

    public long Version { get; }

    /// <summary>What the instance reads (<see cref="SqlEngine.PinKey"/>): two file lists with one key are one instance.</summary>
    public string Key { get; }

    /// <summary>The tables that cannot be read at the instance's moment, by their refusal's message (as-of instances only).</summary>
    public IReadOnlyList<LakehouseException> Unreadable { get; private init; } = [];

    /// <summary>The version's data files (an engine error naming one means the file went away, not that SQL reached outside).</summary>
    public IReadOnlySet<string> Files { get; private init; } = new HashSet<string>();

    /// <summary>Opens the instance and runs <paramref name="setupScript"/> (views, limits, lock) on its first connection; <paramref name="closed"/> runs once it closes.</summary>
    public static SqlInstance Open(LakeFiles files, string setupScript, Action closed, string key)
    {
        var root = new DuckDBConnection("DataSource=:memory:");
        try
        {
            root.Open();
            using var command = root.CreateCommand();
            command.CommandText = setupScript;
            command.ExecuteNonQuery();
            return new SqlInstance(root, files.Version, closed, key)
            {
                Files = files.Tables.SelectMany(t => t.Paths).ToHashSet(StringComparer.Ordinal),
                Unreadable = [.. files.Tables.Select(t => t.Unreadable).OfType<LakehouseException>()],
            };
        }
        catch
        {
            root.Dispose();
            throw;
        }
    }

    /// <summary>A reference for one more user, unless the instance has already closed.</summary>
    public bool TryAcquire()
    {
        var seen = Volatile.Read(ref _references);
        while (seen > 0)
        {
            var before = Interlocked.CompareExchange(ref _references, seen + 1, seen);
            if (before == seen)
            {
                return true;
            }
            seen = before;
        }
        return false;
    }

    public void Release()
    {
        if (Interlocked.Decrement(ref _references) == 0)
        {
            _root.Dispose();
            _closed();
        }
    }

    /// <summary>A new connection to the instance, its default catalog the lake's (USE is per connection).</summary>
    public DuckDBConnection Connect()
    {
        var connection = _root.Duplicate();
        try
        {
            if (connection.State != System.Data.ConnectionState.Open)
            {
                connection.Open();
            }
            var state = NativeMethods.Query.DuckDBQuery(connection.NativeConnection, $"USE {SqlEngine.Catalog}", out var result);
            NativeMethods.Query.DuckDBDestroyResult(ref result);
            if (!state.IsSuccess())
            {
                throw new InvalidOperationException($"USE {SqlEngine.Catalog} failed on a new SQL connection");
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }
}
