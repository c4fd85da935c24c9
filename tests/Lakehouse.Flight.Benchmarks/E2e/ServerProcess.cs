using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// <c>lakehouse serve</c> as a child process on loopback: started with port 0, ready when it prints
/// <c>Flight listening on grpc://HOST:PORT</c>; its memory read from /proc/&lt;pid&gt;/status.
/// </summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private long _peakRssKb;
    private CancellationTokenSource? _sampler;
    private Task? _samplerTask;

    private ServerProcess(Process process, Uri address)
    {
        _process = process;
        Address = address;
    }

    public Uri Address { get; }

    public int Pid => _process.Id;

    /// <summary>Starts the server or says why it could not (the reason goes into the report instead of a crash).</summary>
    public static async Task<(ServerProcess? Server, string? Why)> StartAsync(string dll, string dataDir, TimeSpan timeout)
    {
        if (!File.Exists(dll))
        {
            return (null, $"{dll} not found (build src/Lakehouse.Flight.Cli in Release, or pass --server-dll)");
        }
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            // Not the caller's folder: an appsettings.json there (auth, ports) must not change what is measured.
            WorkingDirectory = dataDir,
        };
        foreach (var a in new[] { dll, "serve", "--data-dir", dataDir, "--flight-port", "0", "--http-port", "0" })
        {
            psi.ArgumentList.Add(a);
        }
        psi.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var stderr = new Queue<string>();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && ListeningLine().Match(line) is { Success: true } m)
            {
                var host = m.Groups["host"].Value is "0.0.0.0" or "[::]" or "+" or "*" ? "127.0.0.1" : m.Groups["host"].Value;
                ready.TrySetResult(new Uri($"http://{host}:{m.Groups["port"].Value}"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                lock (stderr)
                {
                    stderr.Enqueue(line);
                    while (stderr.Count > 20)
                    {
                        stderr.Dequeue();
                    }
                }
            }
        };
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        var exited = process.WaitForExitAsync();
        var first = await Task.WhenAny(ready.Task, exited, Task.Delay(timeout)).ConfigureAwait(false);
        if (first == ready.Task)
        {
            return (new ServerProcess(process, ready.Task.Result), null);
        }
        string why;
        if (first == exited)
        {
            await Task.Delay(100).ConfigureAwait(false);
            lock (stderr)
            {
                why = $"serve exited with code {process.ExitCode}: {string.Join(" | ", stderr.TakeLast(3))}";
            }
        }
        else
        {
            why = $"serve printed no 'Flight listening on grpc://HOST:PORT' line within {timeout.TotalSeconds:F0} s";
            process.Kill(entireProcessTree: true);
        }
        process.Dispose();
        return (null, why);
    }

    public bool HasExited => _process.HasExited;

    /// <summary>VmRSS and VmHWM (peak) of the server, in KiB; 0 when /proc is not there.</summary>
    public (long RssKb, long HwmKb) Memory()
    {
        var path = $"/proc/{_process.Id}/status";
        long rss = 0, hwm = 0;
        try
        {
            foreach (var line in File.ReadLines(path))
            {
                if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
                {
                    rss = ParseKb(line);
                }
                else if (line.StartsWith("VmHWM:", StringComparison.Ordinal))
                {
                    hwm = ParseKb(line);
                }
            }
        }
        catch (IOException)
        {
        }
        return (rss, hwm);
    }

    /// <summary>Samples VmRSS every 20 ms until <see cref="StopSamplingAsync"/>, which returns the peak seen.</summary>
    public void StartSampling()
    {
        _peakRssKb = Memory().RssKb;
        _sampler = new CancellationTokenSource();
        var token = _sampler.Token;
        _samplerTask = Task.Run(async () =>
        {
            while (!token.IsCancellationRequested)
            {
                var rss = Memory().RssKb;
                if (rss > Interlocked.Read(ref _peakRssKb))
                {
                    Interlocked.Exchange(ref _peakRssKb, rss);
                }
                try
                {
                    await Task.Delay(20, token).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }, token);
    }

    public async Task<long> StopSamplingAsync()
    {
        if (_sampler is not null)
        {
            await _sampler.CancelAsync().ConfigureAwait(false);
            await (_samplerTask ?? Task.CompletedTask).ConfigureAwait(false);
            _sampler.Dispose();
            _sampler = null;
        }
        return Interlocked.Read(ref _peakRssKb);
    }

    private static long ParseKb(string line) =>
        long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], NumberStyles.Integer, CultureInfo.InvariantCulture);

    public async ValueTask DisposeAsync()
    {
        await StopSamplingAsync().ConfigureAwait(false);
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync().ConfigureAwait(false);
        }
        _process.Dispose();
    }

    [GeneratedRegex(@"Flight listening on grpc(?:\+tcp)?://(?<host>\[[^\]]+\]|[^:\s]+):(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
