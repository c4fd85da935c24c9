using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Google.Protobuf;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// The statement handle of the tickets GetFlightInfo issues for SQL: a kind byte, a run id (16 random bytes, new for each
/// GetFlightInfo) and what to run, so DoGet stays stateless and each FlightInfo's run is its own: CancelFlightInfo names
/// the run by its ticket, so it reaches the runs of that FlightInfo only, never another caller's run of the same SQL
/// (whoever holds the FlightInfo may cancel it; the id is unguessable). A handle of plain UTF-8 SQL (tickets issued before
/// run ids) is still served.
/// </summary>
internal static class SqlTickets
{
    private const byte StatementKind = 0x01;
    private const byte PreparedKind = 0x02;
    private const int IdBytes = 16;

    /// <summary>What a ticket runs: SQL text, or a prepared statement's handle.</summary>
    internal readonly record struct Run(string? Sql, ByteString? PreparedHandle, bool HasRunId);

    public static ByteString Statement(string sql) => Handle(StatementKind, Encoding.UTF8.GetBytes(sql));

    public static ByteString Prepared(ByteString preparedHandle) => Handle(PreparedKind, preparedHandle.Span);

    public static Run Parse(ByteString handle)
    {
        var bytes = handle.Span;
        if (bytes.Length > IdBytes && bytes[0] == StatementKind)
        {
            return new Run(Utf8(bytes[(1 + IdBytes)..]), null, true);
        }
        if (bytes.Length > IdBytes && bytes[0] == PreparedKind)
        {
            return new Run(null, ByteString.CopyFrom(bytes[(1 + IdBytes)..]), true);
        }
        return new Run(Utf8(bytes), null, false);
    }

    private static ByteString Handle(byte kind, ReadOnlySpan<byte> payload)
    {
        var bytes = new byte[1 + IdBytes + payload.Length];
        bytes[0] = kind;
        RandomNumberGenerator.Fill(bytes.AsSpan(1, IdBytes));
        payload.CopyTo(bytes.AsSpan(1 + IdBytes));
        return ByteString.CopyFrom(bytes);
    }

    private static string Utf8(ReadOnlySpan<byte> bytes)
    {
        try
        {
            return new UTF8Encoding(false, true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            throw LakehouseException.Invalid("the statement ticket is not one this server issued: get it from GetFlightInfo");
        }
    }
}

/// <summary>
/// The SQL runs in progress by ticket, and the runs cancelled before their DoGet registered: a CancelFlightInfo that
/// arrives between GetFlightInfo and DoGet (or while DoGet is still opening) leaves a mark that the DoGet finds when it
/// registers, so it is cancelled at once instead of missing the cancel. Marks are kept for <see cref="MarkLifetime"/>, at
/// most <see cref="MaxMarks"/>, and only for tickets with a run id (plain-SQL tickets are shared by every caller of that SQL).
/// </summary>
internal sealed class SqlRuns(TimeProvider time)
{
    public static readonly TimeSpan MarkLifetime = TimeSpan.FromMinutes(10);
    public const int MaxMarks = 10_000;

    private readonly ConcurrentDictionary<string, ConcurrentDictionary<CancellationTokenSource, byte>> _running = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, DateTimeOffset> _cancelled = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    /// <summary>Registers a run of <paramref name="ticket"/>; disposing the result unregisters it. Cancels it at once if its cancel came first.</summary>
    public IDisposable Register(ReadOnlySpan<byte> ticket, bool hasRunId, CancellationTokenSource run)
    {
        var key = Convert.ToBase64String(ticket);
        ConcurrentDictionary<CancellationTokenSource, byte> runs;
        lock (_lock)
        {
            runs = _running.GetOrAdd(key, _ => new());
            runs[run] = 0;
            if (hasRunId && _cancelled.ContainsKey(key))
            {
                run.Cancel();
            }
        }
        return new Registration(this, key, runs, run);
    }

    /// <summary>Cancels the runs of these tickets, and marks those with a run id for a DoGet still to come.</summary>
    public void Cancel(IEnumerable<ByteString> tickets)
    {
        var now = time.GetUtcNow();
        foreach (var ticket in tickets)
        {
            var key = Convert.ToBase64String(ticket.Span);
            lock (_lock)
            {
                if (SqlTicketHasRunId(ticket))
                {
                    Sweep(now);
                    if (_cancelled.Count < MaxMarks)
                    {
                        _cancelled[key] = now;
                    }
                }
                if (_running.TryGetValue(key, out var runs))
                {
                    foreach (var cts in runs.Keys)
                    {
                        cts.Cancel();
                    }
                }
            }
        }
    }

    /// <summary>Marks kept now (tests).</summary>
    internal int Marks => _cancelled.Count;

    private void Sweep(DateTimeOffset now)
    {
        foreach (var (key, at) in _cancelled)
        {
            if (now - at > MarkLifetime)
            {
                _cancelled.TryRemove(key, out _);
            }
        }
    }

    private static bool SqlTicketHasRunId(ByteString ticket)
    {
        try
        {
            var any = Google.Protobuf.WellKnownTypes.Any.Parser.ParseFrom(ticket);
            return any.Is(Protocol.Sql.TicketStatementQuery.Descriptor)
                && SqlTickets.Parse(any.Unpack<Protocol.Sql.TicketStatementQuery>().StatementHandle).HasRunId;
        }
        catch (Exception ex) when (ex is InvalidProtocolBufferException or LakehouseException)
        {
            return false;
        }
    }

    private sealed class Registration(SqlRuns owner, string key, ConcurrentDictionary<CancellationTokenSource, byte> runs, CancellationTokenSource run) : IDisposable
    {
        public void Dispose()
        {
            lock (owner._lock)
            {
                runs.TryRemove(run, out _);
                if (runs.IsEmpty)
                {
                    owner._running.TryRemove(new KeyValuePair<string, ConcurrentDictionary<CancellationTokenSource, byte>>(key, runs));
                }
            }
        }
    }
}
