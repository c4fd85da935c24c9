using Lakehouse.Flight.Core;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// What a file system failure outside the commit pipeline (a job record, a report, a copied manifest)
/// means to a user, in the words the commit pipeline already uses: a read-only data dir, a full disk, or
/// an I/O error. Never the exception's own text, which names server paths (<c>'/srv/lake/.tmp-...'</c>).
/// </summary>
public static class LakeFaults
{
    /// <summary>The user-facing error for <paramref name="exception"/>, or null when it is no file system failure.</summary>
    /// <param name="exception">What the file system threw (wrapped in an AggregateException or not).</param>
    /// <param name="what">What was being written, for the generic I/O case (e.g. "the job record").</param>
    public static LakehouseException? Translate(Exception exception, string what = "the data dir")
    {
        ArgumentNullException.ThrowIfNull(exception);
        if (StorageFaults.Unwrap(exception) is LakehouseException lake)
        {
            return lake;
        }
        if (StorageFaults.IsDiskFull(exception))
        {
            return new LakehouseException(LakehouseErrorKind.DiskFull, $"disk full: the data dir's disk has no room for {what}; free some space and retry", exception);
        }
        if (StorageFaults.IsReadOnly(exception))
        {
            return new LakehouseException(LakehouseErrorKind.FailedPrecondition, StorageFaults.ReadOnly().Message, exception);
        }
        return StorageFaults.Unwrap(exception) is IOException
            ? new LakehouseException(LakehouseErrorKind.Unavailable, $"{what} could not be written or read: an I/O error on the data dir's disk; retry, or check the disk", exception)
            : null;
    }
}
