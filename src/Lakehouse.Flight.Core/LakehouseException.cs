namespace Lakehouse.Flight.Core;

/// <summary>What went wrong, in the terms a client maps to a status code (gRPC status, HTTP status, CLI exit code).</summary>
public enum LakehouseErrorKind
{
    InvalidArgument,
    NotFound,
    Conflict,
    Unavailable,
    Unauthenticated,
    PermissionDenied,
    Unimplemented,
    ResourceExhausted,

    /// <summary>The disk holding the data dir is full (ENOSPC, or not enough free space for a write).</summary>
    DiskFull,

    /// <summary>The data dir cannot be written (read-only file system, no permission).</summary>
    FailedPrecondition,

    /// <summary>
    /// The content of a file the request names cannot be used (a legacy file that is no Parquet, DECIMAL price
    /// columns): clients see it as InvalidArgument, and the CLI exits 1 (a data error), not 2 (a usage error).
    /// </summary>
    InvalidData,
}

/// <summary>
/// An error whose message tells the caller what to fix. The server maps <see cref="Kind"/> to a gRPC
/// status or an HTTP problem; the CLI prints the message.
/// </summary>
public sealed class LakehouseException : Exception
{
    public LakehouseException(LakehouseErrorKind kind, string message, Exception? inner = null)
        : base(message, inner) => Kind = kind;

    public LakehouseErrorKind Kind { get; }

    public static LakehouseException Invalid(string message) => new(LakehouseErrorKind.InvalidArgument, message);

    /// <summary>A file's content that cannot be used (<see cref="LakehouseErrorKind.InvalidData"/>).</summary>
    public static LakehouseException InvalidData(string message, Exception? inner = null) => new(LakehouseErrorKind.InvalidData, message, inner);
}
