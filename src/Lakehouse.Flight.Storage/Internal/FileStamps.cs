using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// <see cref="FileStamp"/>s read with one <c>statx</c> each on Linux, relative to the symbol's folder for
/// a symbol's months. Checking a compacted copy costs a stat per month file (120,000 for 500 symbols x 20
/// years), and <see cref="FileInfo"/> costs about twice a bare <c>statx</c> there (path normalisation,
/// lstat then stat); the values are the same (length; mtime to 100 ns, as .NET reports it).
/// Elsewhere, or where <c>statx</c> is missing, <see cref="FileInfo"/>.
/// </summary>
internal static partial class FileStamps
{
    private const int AtFdCwd = -100;
    private const uint StatxBasicStats = 0x7ff;
    private const int ODirectoryReadOnlyCloexec = 0x10000 | 0x80000;
    private const int StatxBytes = 256;

    private static bool _native = OperatingSystem.IsLinux();

    public static FileStamp Of(string path)
    {
        if (Volatile.Read(ref _native))
        {
            Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(path.Length) + 1];
            var n = Encoding.UTF8.GetBytes(path, utf8);
            utf8[n] = 0;
            if (TryStat(AtFdCwd, utf8[..(n + 1)], out var stamp))
            {
                return stamp;
            }
        }
        return Managed(path);
    }

    /// <summary>The stamps of a symbol's partition files (default where a file is missing), one open of its folder and one statx each.</summary>
    public static FileStamp[] OfMonths(string symbolDir, Partitioning partitioning, IReadOnlyList<(int Year, int Month)> months)
    {
        var stamps = new FileStamp[months.Count];
        if (Volatile.Read(ref _native))
        {
            Span<byte> dir = stackalloc byte[Encoding.UTF8.GetMaxByteCount(symbolDir.Length) + 1];
            var n = Encoding.UTF8.GetBytes(symbolDir, dir);
            dir[n] = 0;
            var fd = OpenDir(dir[..(n + 1)], ODirectoryReadOnlyCloexec);
            if (fd < 0)
            {
                // No folder: no files (a concurrent delete, or nothing written yet).
                return stamps;
            }
            try
            {
                Span<byte> rel = stackalloc byte[64];
                for (var i = 0; i < months.Count; i++)
                {
                    var len = Relative(partitioning, months[i], rel);
                    if (!TryStat(fd, rel[..(len + 1)], out stamps[i]))
                    {
                        if (!Volatile.Read(ref _native))
                        {
                            break;
                        }
                        stamps[i] = default;
                    }
                }
                if (Volatile.Read(ref _native))
                {
                    return stamps;
                }
            }
            finally
            {
                _ = Close(fd);
            }
        }
        for (var i = 0; i < months.Count; i++)
        {
            var rel = Path.Combine(partitioning == Partitioning.SymbolYearMonth
                ? ["year=" + months[i].Year.ToString(CultureInfo.InvariantCulture), "month=" + months[i].Month.ToString(CultureInfo.InvariantCulture)]
                : partitioning == Partitioning.SymbolYear ? ["year=" + months[i].Year.ToString(CultureInfo.InvariantCulture)] : []);
            stamps[i] = Managed(Path.Combine(symbolDir, rel, LakePaths.DataFileName));
        }
        return stamps;
    }

    /// <summary><c>year=Y/month=M/data.parquet\0</c> (as the table is partitioned) into <paramref name="buffer"/>; returns its length without the NUL.</summary>
    private static int Relative(Partitioning partitioning, (int Year, int Month) month, Span<byte> buffer)
    {
        var w = 0;
        if (partitioning != Partitioning.Symbol)
        {
            w += Encoding.ASCII.GetBytes("year=", buffer[w..]);
            month.Year.TryFormat(buffer[w..], out var y, provider: CultureInfo.InvariantCulture);
            w += y;
            buffer[w++] = (byte)'/';
        }
        if (partitioning == Partitioning.SymbolYearMonth)
        {
            w += Encoding.ASCII.GetBytes("month=", buffer[w..]);
            month.Month.TryFormat(buffer[w..], out var m, provider: CultureInfo.InvariantCulture);
            w += m;
            buffer[w++] = (byte)'/';
        }
        w += Encoding.ASCII.GetBytes(LakePaths.DataFileName, buffer[w..]);
        buffer[w] = 0;
        return w;
    }

    /// <summary>False when the native call is unavailable (then <see cref="_native"/> is off for good); a missing file is a default stamp.</summary>
    private static bool TryStat(int dirFd, ReadOnlySpan<byte> path, out FileStamp stamp)
    {
        stamp = default;
        Span<byte> buf = stackalloc byte[StatxBytes];
        int rc;
        try
        {
            rc = Statx(dirFd, path, 0, StatxBasicStats, buf);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            Volatile.Write(ref _native, false);
            return false;
        }
        if (rc != 0)
        {
            return true;
        }
        // struct statx: stx_mode (u16) at 28, stx_size (u64) at 40, stx_mtime {i64 tv_sec; u32 tv_nsec} at 112.
        var mode = MemoryMarshal.Read<ushort>(buf[28..]);
        if ((mode & 0xF000) != 0x8000)
        {
            return true;
        }
        var size = MemoryMarshal.Read<long>(buf[40..]);
        var seconds = MemoryMarshal.Read<long>(buf[112..]);
        var nanos = MemoryMarshal.Read<uint>(buf[120..]);
        stamp = new FileStamp(size, new DateTime(DateTime.UnixEpoch.Ticks + (seconds * TimeSpan.TicksPerSecond) + (nanos / 100), DateTimeKind.Utc));
        return true;
    }

    private static FileStamp Managed(string path)
    {
        var info = new FileInfo(path);
        return info.Exists ? new FileStamp(info.Length, info.LastWriteTimeUtc) : default;
    }

    [LibraryImport("libc", EntryPoint = "statx")]
    private static partial int Statx(int dirFd, ReadOnlySpan<byte> path, int flags, uint mask, Span<byte> buffer);

    [LibraryImport("libc", EntryPoint = "open")]
    private static partial int OpenDir(ReadOnlySpan<byte> path, int flags);

    [LibraryImport("libc", EntryPoint = "close")]
    private static partial int Close(int fd);
}
