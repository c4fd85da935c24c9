using System.Diagnostics;

namespace Lakehouse.Flight.Testing;

/// <summary>
/// A small tmpfs mounted for one test, to meet a full or read-only disk for real. Needs root and
/// mount(8) (CI runs as root); elsewhere the tests that use it are skipped with a message.
/// </summary>
public sealed class Tmpfs : IDisposable
{
    private static readonly Lazy<string?> Unavailable = new(Probe);

    private Tmpfs(string path) => Path = path;

    public string Path { get; }

    /// <summary>Why tmpfs tests cannot run here, or null when they can.</summary>
    public static string? WhyUnavailable => Unavailable.Value;

    public static Tmpfs Mount(int megabytes)
    {
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "lakehouse-tmpfs-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(path);
        var (code, error) = Run("mount", $"-t tmpfs -o size={megabytes}m tmpfs {path}");
        if (code != 0)
        {
            throw new InvalidOperationException($"mount failed: {error}");
        }
        return new Tmpfs(path);
    }

    public void RemountReadOnly(bool readOnly = true)
    {
        var (code, error) = Run("mount", $"-o remount,{(readOnly ? "ro" : "rw")} {Path}");
        if (code != 0)
        {
            throw new InvalidOperationException($"remount failed: {error}");
        }
    }

    /// <summary>Fills the disk with a file until at most <paramref name="leaveBytes"/> remain free.</summary>
    public string Fill(long leaveBytes)
    {
        var filler = System.IO.Path.Combine(Path, "filler.bin");
        var free = new DriveInfo(Path).AvailableFreeSpace;
        using var fs = new FileStream(filler, FileMode.Create, FileAccess.Write);
        var chunk = new byte[64 * 1024];
        var toWrite = Math.Max(0, free - leaveBytes);
        try
        {
            while (toWrite > 0)
            {
                var n = (int)Math.Min(chunk.Length, toWrite);
                fs.Write(chunk, 0, n);
                toWrite -= n;
            }
            fs.Flush(flushToDisk: true);
        }
        catch (IOException)
        {
        }
        return filler;
    }

    public void Dispose()
    {
        Run("umount", $"-l {Path}");
        try
        {
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "tmpfs tests need Linux";
        }
        try
        {
            using var t = Mount(1);
            return null;
        }
        catch (Exception ex) when (ex is InvalidOperationException or System.ComponentModel.Win32Exception)
        {
            return $"tmpfs tests skipped: cannot mount a tmpfs here ({ex.Message.Trim()}); they need root and mount(8), as CI has";
        }
    }

    private static (int Code, string Error) Run(string file, string arguments)
    {
        using var p = Process.Start(new ProcessStartInfo(file, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var error = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, error);
    }
}

/// <summary>A fact that runs only where a tmpfs can be mounted (and says why it is skipped elsewhere).</summary>
public sealed class TmpfsFactAttribute : FactAttribute
{
    public TmpfsFactAttribute()
    {
        if (Tmpfs.WhyUnavailable is { } why)
        {
            Skip = why;
        }
    }
}
