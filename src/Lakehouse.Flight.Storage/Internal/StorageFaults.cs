using System.Runtime.InteropServices;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// What the file system's refusals mean to a user: ENOSPC and EDQUOT are a full disk, EROFS, EACCES and
/// EPERM a data dir that cannot be written. Messages never carry server paths (clients see them).
/// </summary>
internal static partial class StorageFaults
{
    private const int Eperm = 1;
    private const int Eacces = 13;
    private const int Enospc = 28;
    private const int Erofs = 30;
    private const int Edquot = 122;

    /// <summary>Bytes a write may use beyond what it stages (log entry, manifest lines, folder entries).</summary>
    public const long Margin = 1L << 20;

    public static bool IsDiskFull(Exception ex) => Unwrap(ex) is IOException { HResult: Enospc or Edquot };

    public static bool IsReadOnly(Exception ex) =>
        Unwrap(ex) is UnauthorizedAccessException or IOException { HResult: Erofs or Eacces or Eperm };

    public static LakehouseException ReadOnly() => new(LakehouseErrorKind.FailedPrecondition,
        "the data dir is read-only (or not writable by the server): writes are refused until it is writable again; reads go on");

    public static LakehouseException DiskFull(long neededBytes, long? freeBytes) => new(LakehouseErrorKind.DiskFull,
        $"disk full: this write needs {Mb(neededBytes)} MB" + (freeBytes is { } f ? $" and the data dir's disk has {Mb(f)} MB free" : "")
        + "; free some space (nothing of this write was kept)");

    /// <summary>The user-facing error for a file system failure, or null when it is not one of ours.</summary>
    public static LakehouseException? Translate(Exception ex, long neededBytes, string root) => Unwrap(ex) switch
    {
        _ when IsDiskFull(ex) => DiskFull(neededBytes, FreeBytes(root)),
        _ when IsReadOnly(ex) => ReadOnly(),
        _ => null,
    };

    public static Exception Unwrap(Exception ex)
    {
        while (ex is AggregateException { InnerExceptions.Count: > 0 } agg)
        {
            ex = agg.InnerExceptions[0];
        }
        return ex;
    }

    /// <summary>Free bytes for unprivileged writers on the file system holding <paramref name="path"/> (statvfs); null when unknown.</summary>
    public static long? FreeBytes(string path)
    {
        if (!OperatingSystem.IsLinux() || RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.Arm64))
        {
            return null;
        }
        // struct statvfs on 64-bit glibc: f_bsize, f_frsize, f_blocks, f_bfree, f_bavail, ... (8 bytes each).
        Span<long> buffer = stackalloc long[16];
        if (Native.StatVfs(path, ref MemoryMarshal.GetReference(buffer)) != 0)
        {
            return null;
        }
        return buffer[4] * buffer[1];
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture);

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "statvfs", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int StatVfs(string path, ref long buffer);
    }
}
