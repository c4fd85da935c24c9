using System.Diagnostics;

namespace Lakehouse.Flight.Testing;

/// <summary>Starts the CrashChild program (built beside this test project) as a real second process.</summary>
public sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly List<string> _lines = [];
    private readonly object _gate = new();

    public ChildProcess(params string[] args)
        : this(new Dictionary<string, string>(), args)
    {
    }

    /// <summary>Starts the child with extra environment variables (e.g. the store's test-only crash hook).</summary>
    public ChildProcess(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var baseDir = AppContext.BaseDirectory.TrimEnd(Path.DirectorySeparatorChar);
        var tfm = Path.GetFileName(baseDir);
        var config = Path.GetFileName(Path.GetDirectoryName(baseDir)!);
        var dll = Path.GetFullPath(Path.Combine(baseDir, "..", "..", "..", "..", "Lakehouse.Flight.Storage.CrashChild", "bin", config, tfm,
            "Lakehouse.Flight.Storage.CrashChild.dll"));
        if (!File.Exists(dll))
        {
            throw new FileNotFoundException("build the solution first: the crash child is missing", dll);
        }
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(dll);
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        foreach (var (name, value) in environment)
        {
            psi.Environment[name] = value;
        }
        _process = Process.Start(psi)!;
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_gate)
                {
                    _lines.Add(e.Data);
                    Monitor.PulseAll(_gate);
                }
            }
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is not null)
            {
                lock (_gate)
                {
                    _lines.Add("stderr: " + e.Data);
                }
            }
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    public int Id => _process.Id;

    public string[] Lines
    {
        get
        {
            lock (_gate)
            {
                return [.. _lines];
            }
        }
    }

    /// <summary>Waits until some output line satisfies <paramref name="predicate"/>; fails fast on exit or timeout.</summary>
    public void WaitFor(Func<string, bool> predicate, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            lock (_gate)
            {
                if (_lines.Any(predicate))
                {
                    return;
                }
                Monitor.Wait(_gate, TimeSpan.FromMilliseconds(100));
                if (_lines.Any(predicate))
                {
                    return;
                }
            }
            if (_process.HasExited)
            {
                // The parameterless wait also drains the redirected output.
                _process.WaitForExit();
                lock (_gate)
                {
                    if (_lines.Any(predicate))
                    {
                        return;
                    }
                }
                throw new InvalidOperationException($"child exited ({_process.ExitCode}) without the expected output; it printed: {string.Join(" | ", Lines.TakeLast(5))}");
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"child output never matched; it printed: {string.Join(" | ", Lines.TakeLast(5))}");
            }
        }
    }

    public void KillHard()
    {
        // Process.Kill sends SIGKILL on Unix: no finally blocks, no flushes.
        _process.Kill(entireProcessTree: false);
        // The parameterless wait also drains what the child wrote before it died.
        _process.WaitForExit();
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public int ExitCode => _process.ExitCode;

    public void Dispose()
    {
        if (!_process.HasExited)
        {
            _process.Kill();
        }
        _process.Dispose();
    }
}
