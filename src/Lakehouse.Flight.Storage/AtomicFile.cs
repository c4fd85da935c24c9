using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// Whole-file replacement for small metadata files outside the commit pipeline (job records, reports):
/// a reader sees the old file or the new one, never a torn one, and the new one survives a power cut.
/// A read-only data dir or a full disk is a <see cref="Core.LakehouseException"/> (FailedPrecondition, DiskFull)
/// whose message names no path, as the commit pipeline's are; other I/O errors stay IOExceptions.
/// </summary>
public static class AtomicFile
{
    /// <summary>Writes <paramref name="bytes"/> to a temp file beside <paramref name="path"/>, flushes it and renames it over <paramref name="path"/>.</summary>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        var copy = bytes.ToArray();
        Write(path, s => s.Write(copy));
    }

    /// <summary>Like <see cref="WriteAllBytes"/> with the content written by <paramref name="write"/>.</summary>
    public static void Write(string path, Action<Stream> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        var full = Path.GetFullPath(path);
        try
        {
            var temp = DurableFile.WriteTemp(full, write);
            try
            {
                DurableFile.CommitTemp(temp, full);
            }
            catch
            {
                DurableFile.TryDelete(temp);
                throw;
            }
            DurableFile.FsyncDirectory(Path.GetDirectoryName(full)!);
        }
        catch (Exception ex) when (StorageFaults.IsDiskFull(ex) || StorageFaults.IsReadOnly(ex))
        {
            // The raw message names the temp file's path; clients (job records, action answers) must never see it.
            throw LakeFaults.Translate(ex, "the file")!;
        }
    }

    /// <summary>True for the temp files <see cref="Write"/> leaves behind when a process dies mid-write (safe to delete when their writer is gone).</summary>
    public static bool IsTemp(string path) => DurableFile.OwnerPid(path) is not null;
}
