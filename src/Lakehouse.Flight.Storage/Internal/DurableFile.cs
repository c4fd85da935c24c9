using System.Runtime.InteropServices;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Whole-file writes: write beside the target under a temp name, flush to disk, rename over the
/// target, then fsync the folder so the rename itself survives a power cut.
/// </summary>
internal static partial class DurableFile
{
    /// <summary>Temp files start with '.' so DuckDB/Spark globs and Hive readers skip them.</summary>
    public const string TempPrefix = ".tmp-";

    public const string TempSuffix = ".tmp";

    public static string TempPathFor(string finalPath) =>
        Path.Combine(Path.GetDirectoryName(finalPath)!,
            $"{TempPrefix}{Environment.ProcessId}-{Guid.NewGuid():N}-{Path.GetFileName(finalPath)}{TempSuffix}");

    /// <summary>The pid that wrote a temp file, from its name; null when the name is not ours.</summary>
    public static int? OwnerPid(string path)
    {
        var name = Path.GetFileName(path);
        if (!name.StartsWith(TempPrefix, StringComparison.Ordinal) || !name.EndsWith(TempSuffix, StringComparison.Ordinal))
        {
            return null;
        }
        var rest = name.AsSpan(TempPrefix.Length);
        var dash = rest.IndexOf('-');
        return dash > 0 && int.TryParse(rest[..dash], out var pid) ? pid : null;
    }

    /// <summary>Writes a temp file beside <paramref name="finalPath"/> and flushes it to disk (or leaves that to a later <see cref="SyncFileSystem"/>).</summary>
    public static string WriteTemp(string finalPath, Action<Stream> write, bool flushToDisk = true)
    {
        var dir = Path.GetDirectoryName(finalPath)!;
        Directory.CreateDirectory(dir);
        var temp = TempPathFor(finalPath);
        try
        {
            using (var fs = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 64 * 1024))
            {
                write(fs);
                fs.Flush(flushToDisk);
            }
            return temp;
        }
        catch
        {
            TryDelete(temp);
            throw;
        }
    }

    /// <summary>Replaces <paramref name="finalPath"/> in one step and makes the rename durable.</summary>
    public static void CommitTemp(string tempPath, string finalPath)
    {
        File.Move(tempPath, finalPath, overwrite: true);
    }

    public static void TryDelete(string path)
    {
        try
        {
            File.Delete(path);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }

    /// <summary>fsync on the folder: on Linux the rename is durable only once its folder is.</summary>
    public static void FsyncDirectory(string dir)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }
        var fd = Native.Open(dir, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return;
        }
        try
        {
            _ = Native.Fsync(fd);
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    /// <summary>fsync of a file written without one.</summary>
    public static void FsyncFile(string path)
    {
        using var fs = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
        fs.Flush(flushToDisk: true);
    }

    /// <summary>
    /// syncfs(2) on the file system holding <paramref name="path"/>: one call makes every file written and
    /// renamed on it durable (Linux; errors of the writeback are returned since 5.8). False where it is not
    /// available, and the caller fsyncs file by file.
    /// </summary>
    public static bool SyncFileSystem(string path)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }
        var fd = Native.Open(path, 0 /* O_RDONLY */);
        if (fd < 0)
        {
            return false;
        }
        try
        {
            if (Native.SyncFs(fd) != 0)
            {
                throw new IOException($"syncfs failed (errno {Marshal.GetLastPInvokeError()}): the written files may not be on disk");
            }
            return true;
        }
        finally
        {
            _ = Native.Close(fd);
        }
    }

    private static partial class Native
    {
        [LibraryImport("libc", EntryPoint = "syncfs", SetLastError = true)]
        public static partial int SyncFs(int fd);

        [LibraryImport("libc", EntryPoint = "open", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
        public static partial int Open(string path, int flags);

        [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
        public static partial int Fsync(int fd);

        [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
        public static partial int Close(int fd);
    }
}
