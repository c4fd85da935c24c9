using System.Collections.Concurrent;
using System.Security.Cryptography;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// Prepared statements by handle (16 random bytes): the SQL and the parameter row bound last by DoPut. A statement is
/// only text until it runs (each execution prepares it on the engine instance of the version current then), so the
/// server holds no engine state per statement; one unused for <see cref="SqlOptions.PreparedStatementSeconds"/> is dropped.
/// </summary>
internal sealed class PreparedStatements(LakehouseServerOptions options, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, Entry> _statements = new(StringComparer.Ordinal);

    public int Count => _statements.Count;

    /// <exception cref="Core.LakehouseException">ResourceExhausted when <see cref="SqlOptions.MaxPreparedStatements"/> are open.</exception>
    public byte[] Create(string sql)
    {
        Sweep();
        if (_statements.Count >= options.Sql.MaxPreparedStatements)
        {
            throw new Core.LakehouseException(Core.LakehouseErrorKind.ResourceExhausted,
                $"{options.Sql.MaxPreparedStatements} prepared statements are open (Lakehouse:Sql:MaxPreparedStatements): close the ones no longer used");
        }
        var handle = RandomNumberGenerator.GetBytes(16);
        _statements[Convert.ToHexString(handle)] = new Entry(sql, time.GetUtcNow());
        return handle;
    }

    /// <summary>The statement, or null if the handle is unknown, closed or expired.</summary>
    public Entry? Find(ReadOnlySpan<byte> handle)
    {
        Sweep();
        if (!_statements.TryGetValue(Convert.ToHexString(handle), out var entry))
        {
            return null;
        }
        entry.LastUsed = time.GetUtcNow();
        return entry;
    }

    public bool Close(ReadOnlySpan<byte> handle) => _statements.TryRemove(Convert.ToHexString(handle), out _);

    private void Sweep()
    {
        var cutoff = time.GetUtcNow() - TimeSpan.FromSeconds(options.Sql.PreparedStatementSeconds);
        foreach (var (key, entry) in _statements)
        {
            if (entry.LastUsed < cutoff)
            {
                _statements.TryRemove(key, out _);
            }
        }
    }

    internal sealed class Entry(string sql, DateTimeOffset created)
    {
        public string Sql { get; } = sql;

        /// <summary>The parameter values bound by the last DoPut (positional: <c>?</c> or <c>$1</c>...).</summary>
        public IReadOnlyList<object?> Parameters { get; set; } = [];

        public DateTimeOffset LastUsed { get; set; } = created;
    }
}
