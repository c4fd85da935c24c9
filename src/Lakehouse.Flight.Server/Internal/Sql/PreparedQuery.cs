using System.Runtime.InteropServices;
using Apache.Arrow;
using Apache.Arrow.C;
using DuckDB.NET.Data;
using DuckDB.NET.Native;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>The engine's error text for one statement (a prepare, a bind, an execution or a fetch that failed).</summary>
internal sealed class EngineError(string message) : Exception(message);

/// <summary>
/// One statement prepared on a query's connection through DuckDB's C API: its kind, its result columns and its parameters'
/// types are known without running it. Only queries (the engine's SELECT kind) are served; one statement at a time.
/// </summary>
internal sealed class PreparedQuery : IDisposable
{
    private readonly DuckDBPreparedStatement _statement;

    private PreparedQuery(DuckDBPreparedStatement statement) => _statement = statement;

    /// <exception cref="EngineError">The engine refused the statement (its message says why).</exception>
    public static PreparedQuery Prepare(DuckDBConnection connection, string sql)
    {
        if (!NativeMethods.PreparedStatements.DuckDBPrepare(connection.NativeConnection, sql, out var statement).IsSuccess())
        {
            var message = NativeMethods.PreparedStatements.DuckDBPrepareError(statement);
            statement.Dispose();
            throw new EngineError(message);
        }
        return new PreparedQuery(statement);
    }

    public bool IsQuery => DuckNative.StatementType(_statement) == DuckNative.SelectStatement;

    /// <summary>The result's columns as bound (a column whose type depends on an unbound parameter is Invalid or SqlNull).</summary>
    public IReadOnlyList<(string Name, DuckDBType Type)> Columns =>
        Enumerable.Range(0, DuckNative.ColumnCount(_statement)).Select(i => (DuckNative.ColumnName(_statement, i), DuckNative.ColumnType(_statement, i))).ToArray();

    /// <summary>Each parameter's type as the engine infers it from its use (Invalid where nothing tells).</summary>
    public IReadOnlyList<DuckDBType> ParameterTypes
    {
        get
        {
            var count = (int)NativeMethods.PreparedStatements.DuckDBParams(_statement);
            var types = new DuckDBType[count];
            for (var i = 0; i < count; i++)
            {
                using var type = NativeMethods.PreparedStatements.DuckDBParamLogicalType(_statement, i + 1);
                types[i] = type.IsInvalid ? DuckDBType.Invalid : NativeMethods.LogicalType.DuckDBGetTypeId(type);
            }
            return types;
        }
    }

    /// <summary>Binds positional values (<c>?</c> or <c>$n</c>); the engine casts each to its parameter's type where it can.</summary>
    public void Bind(IReadOnlyList<object?> values)
    {
        var expected = (int)NativeMethods.PreparedStatements.DuckDBParams(_statement);
        if (values.Count != expected)
        {
            throw new Core.LakehouseException(Core.LakehouseErrorKind.InvalidArgument,
                $"the statement has {expected} parameter(s) and {values.Count} value(s) are bound: bind one value per placeholder (DoPut of a one-row parameter batch on the prepared statement)");
        }
        for (var i = 0; i < values.Count; i++)
        {
            var index = i + 1;
            var state = values[i] switch
            {
                null => NativeMethods.PreparedStatements.DuckDBBindNull(_statement, index),
                string s => NativeMethods.PreparedStatements.DuckDBBindVarchar(_statement, index, s),
                bool b => NativeMethods.PreparedStatements.DuckDBBindBoolean(_statement, index, b),
                long l => NativeMethods.PreparedStatements.DuckDBBindInt64(_statement, index, l),
                double d => NativeMethods.PreparedStatements.DuckDBBindDouble(_statement, index, d),
                DateOnly d => NativeMethods.PreparedStatements.DuckDBBindDate(_statement, index, DuckDBDateOnly.FromDateOnly(d).ToDuckDBDate()),
                DateTime t => NativeMethods.PreparedStatements.DuckDBBindTimestamp(_statement, index, DuckDBTimestamp.FromDateTime(t).ToDuckDBTimestampStruct()),
                var other => throw new Core.LakehouseException(Core.LakehouseErrorKind.InvalidArgument, $"parameter {index} has a value of type {other.GetType().Name}, which cannot be bound"),
            };
            if (!state.IsSuccess())
            {
                throw new EngineError(NativeMethods.PreparedStatements.DuckDBPrepareError(_statement) is { Length: > 0 } error ? error
                    : $"Invalid Input Error: parameter {index} cannot be bound to this value");
            }
        }
    }

    /// <summary>Starts the statement; its rows are fetched chunk by chunk from the result.</summary>
    public QueryResult Execute()
    {
        var result = new QueryResult();
        if (!NativeMethods.PreparedStatements.DuckDBExecutePreparedStreaming(_statement, out result.Native).IsSuccess())
        {
            var message = NativeMethods.Query.DuckDBResultError(ref result.Native);
            result.Dispose();
            throw new EngineError(message);
        }
        result.Start();
        return result;
    }

    public void Dispose() => _statement.Dispose();
}

/// <summary>
/// A running statement's result: DuckDB's data chunks exported through its Arrow C data interface and imported by
/// Apache.Arrow without a copy (the batch owns the exported buffers; disposing it releases them).
/// </summary>
internal sealed unsafe class QueryResult : IDisposable
{
    internal DuckDBResult Native;
    private DuckDBArrowOptions? _options;
    private bool _destroyed;

    /// <summary>The result's columns (name, engine type).</summary>
    public IReadOnlyList<(string Name, DuckDBType Type)> Columns { get; private set; } = [];

    /// <summary>The schema of the exported batches, as the engine exports it (decimal128 for HUGEINT, etc.).</summary>
    public Schema Exported { get; private set; } = null!;

    internal void Start()
    {
        var count = (int)NativeMethods.Query.DuckDBColumnCount(ref Native);
        var columns = new (string, DuckDBType)[count];
        var types = new DuckDBLogicalType[count];
        var typeHandles = new IntPtr[count];
        var names = new IntPtr[count];
        _options = NativeMethods.Arrow.DuckDBResultGetArrowOptions(ref Native);
        var schema = CArrowSchema.Create();
        try
        {
            for (var i = 0; i < count; i++)
            {
                var name = NativeMethods.Query.DuckDBColumnName(ref Native, i);
                columns[i] = (name, NativeMethods.Query.DuckDBColumnType(ref Native, i));
                types[i] = NativeMethods.Query.DuckDBColumnLogicalType(ref Native, i);
                typeHandles[i] = types[i].DangerousGetHandle();
                names[i] = Marshal.StringToCoTaskMemUTF8(name);
            }
            fixed (IntPtr* t = typeHandles)
            fixed (IntPtr* n = names)
            {
                using var error = NativeMethods.Arrow.DuckDBToArrowSchema(_options, (IntPtr)t, (IntPtr)n, (ulong)count, (IntPtr)schema);
                if (error.HasError)
                {
                    throw new EngineError(error.Message ?? "Invalid Error: the engine could not export its result as Arrow");
                }
            }
            Exported = CArrowSchemaImporter.ImportSchema(schema);
            Columns = columns;
        }
        finally
        {
            CArrowSchema.Free(schema);
            foreach (var type in types)
            {
                type?.Dispose();
            }
            foreach (var name in names)
            {
                Marshal.FreeCoTaskMem(name);
            }
        }
    }

    /// <summary>The next chunk (at most 2,048 rows) as an Arrow batch the caller disposes, or null at the end.</summary>
    /// <exception cref="EngineError">The statement failed while running (interrupted, out of memory, a file unreadable...).</exception>
    public RecordBatch? Next()
    {
        using var chunk = NativeMethods.Query.DuckDBFetchChunk(Native);
        if (chunk is null || chunk.IsInvalid || NativeMethods.DataChunks.DuckDBDataChunkGetSize(chunk) == 0)
        {
            var message = NativeMethods.Query.DuckDBResultError(ref Native);
            return string.IsNullOrEmpty(message) ? null : throw new EngineError(message);
        }
        var array = CArrowArray.Create();
        try
        {
            using (var error = NativeMethods.Arrow.DuckDBDataChunkToArrow(_options!, chunk, (IntPtr)array))
            {
                if (error.HasError)
                {
                    throw new EngineError(error.Message ?? "Invalid Error: the engine could not export its result as Arrow");
                }
            }
            return CArrowArrayImporter.ImportRecordBatch(array, Exported);
        }
        finally
        {
            CArrowArray.Free(array);
        }
    }

    public void Dispose()
    {
        _options?.Dispose();
        if (!_destroyed)
        {
            _destroyed = true;
            NativeMethods.Query.DuckDBDestroyResult(ref Native);
        }
    }
}
