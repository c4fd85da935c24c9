using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server;

/// <summary>Limits of a SQL query (Flight SQL): <c>Lakehouse:Sql:*</c>. Each query runs in its own engine instance with these.</summary>
public sealed class SqlOptions
{
    /// <summary>Serve Flight SQL on the Flight port.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>Threads one query may use.</summary>
    public int Threads { get; set; } = Math.Clamp(Environment.ProcessorCount, 1, 4);

    /// <summary>Memory one query may use, in MiB (the engine's <c>memory_limit</c>; no spilling to disk).</summary>
    public int MemoryLimitMb { get; set; } = 1024;

    /// <summary>Rows one result may have; a query that would answer more fails with ResourceExhausted.</summary>
    public long MaxResultRows { get; set; } = 50_000_000;

    /// <summary>How long one query may run (planning, execution and streaming), in seconds.</summary>
    public int TimeoutSeconds { get; set; } = 300;

    /// <summary>How long an unused prepared statement is kept, in seconds.</summary>
    public int PreparedStatementSeconds { get; set; } = 600;

    /// <summary>
    /// Queries running at once (each an engine instance with its own memory limit): one more waits up to
    /// <see cref="QueueSeconds"/> for a slot, then fails with ResourceExhausted.
    /// </summary>
    public int MaxConcurrentQueries { get; set; } = 4;

    /// <summary>How long a query waits for a slot when <see cref="MaxConcurrentQueries"/> are running, in seconds.</summary>
    public int QueueSeconds { get; set; } = 30;

    /// <summary>
    /// A query at the current version first waits for the uploads this server acknowledged before it to be applied and
    /// their gold rebuilt, so SQL sees what DoGet already shows: read-your-writes. At most <see cref="TimeoutSeconds"/>,
    /// then Unavailable. Off: SQL sees only applied rows (an upload acknowledged with <c>"wait": false</c> shows up once applied).
    /// </summary>
    public bool WaitForUploads { get; set; } = true;

    /// <summary>
    /// Statements a DoGet ticket can express (one table, some of its columns, symbols equal to or in literals, a date range,
    /// <c>ORDER BY symbol, date</c>, <c>LIMIT</c>) are read through the lake's own read path at one committed version, not
    /// by the engine: the same rows and schema, without the engine planning a scan of the version's files (decisions D47).
    /// Used only with <see cref="WaitForUploads"/> on (the read is of one committed version after the wait). Off: the engine
    /// answers every statement.
    /// </summary>
    public bool FastPath { get; set; } = true;

    /// <summary>Prepared statements kept at once (open ones, not yet closed or expired); one more is ResourceExhausted.</summary>
    public int MaxPreparedStatements { get; set; } = 1000;

    internal void Validate()
    {
        if (Threads is < 1 or > 256 || MemoryLimitMb < 16 || MaxResultRows < 1 || TimeoutSeconds < 1 || PreparedStatementSeconds < 1
            || MaxConcurrentQueries < 1 || QueueSeconds < 0 || MaxPreparedStatements < 1)
        {
            throw LakehouseException.Invalid(
                "Lakehouse:Sql: Threads must be 1..256, MemoryLimitMb >= 16, MaxResultRows >= 1, TimeoutSeconds >= 1, PreparedStatementSeconds >= 1, "
                + "MaxConcurrentQueries >= 1, QueueSeconds >= 0, MaxPreparedStatements >= 1");
        }
    }
}
