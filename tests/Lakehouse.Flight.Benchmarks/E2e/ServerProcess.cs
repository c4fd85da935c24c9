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

    private readonly Milestones _milestones;

    private ServerProcess(Process process, Uri address, Uri? httpAddress, TimeSpan startup, Milestones milestones)
    {
        _process = process;
        _milestones = milestones;
        Address = address;
        HttpAddress = httpAddress;
        StartupToListening = startup;
    }

    public Uri Address { get; }

    /// <summary>The HTTP API (<c>HTTP listening on http://HOST:PORT</c>), when the server printed it.</summary>
    public Uri? HttpAddress { get; }

    /// <summary>From process start to the <c>Flight listening</c> line.</summary>
    public TimeSpan StartupToListening { get; }

    /// <summary>From process start to the <c>Cache warmed</c> log line; null until it is printed.</summary>
    public TimeSpan? StartupToCacheWarm => _milestones.CacheWarm;

    /// <summary>From process start to the <c>Serving code warmed</c> log line (then <c>/health</c> says ok); null until it is printed.</summary>
    public TimeSpan? StartupToCodeWarm => _milestones.CodeWarm;

    /// <summary>When the start-up's log lines came (written by the stderr reader, read by the harness).</summary>
    private sealed class Milestones
    {
        private long _cacheWarm = -1;
        private long _codeWarm = -1;

        public TimeSpan? CacheWarm => Read(ref _cacheWarm);

        public TimeSpan? CodeWarm => Read(ref _codeWarm);

        public void Saw(string line, TimeSpan elapsed)
        {
            if (line.Contains("Cache warmed:", StringComparison.Ordinal))
            {
                Interlocked.Exchange(ref _cacheWarm, elapsed.Ticks);
            }
            else if (line.Contains("Serving code warmed:", StringComparison.Ordinal))
            {
                Interlocked.Exchange(ref _codeWarm, elapsed.Ticks);
            }
        }

        private static TimeSpan? Read(ref long ticks) => Interlocked.Read(ref ticks) is var t && t >= 0 ? TimeSpan.FromTicks(t) : null;
    }

    /// <summary>User + system CPU time the server has used so far (/proc/&lt;pid&gt;/stat); zero when /proc is not there.</summary>
    public TimeSpan CpuTime()
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{_process.Id}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            // utime and stime are fields 14 and 15 of the file, 12 and 13 after "pid (comm) ".
            var ticks = long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
            return TimeSpan.FromSeconds(ticks / 100.0);
        }
        catch (IOException)
        {
            return TimeSpan.Zero;
        }
    }

    public int Pid => _process.Id;

    /// <summary>Starts the server or says why it could not (the reason goes into the report instead of a crash).</summary>
    public static async Task<(ServerProcess? Server, string? Why)> StartAsync(string dll, string dataDir, TimeSpan timeout,
        IReadOnlyDictionary<string, string>? environment = null)
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
        foreach (var (name, value) in environment ?? new Dictionary<string, string>())
        {
            psi.Environment[name] = value;
        }
        var started = Stopwatch.StartNew();
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        var ready = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var httpReady = new TaskCompletionSource<Uri>(TaskCreationOptions.RunContinuationsAsynchronously);
        var listenedAfter = TimeSpan.Zero;
        var stderr = new Queue<string>();
        var milestones = new Milestones();
        process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is { } line && ListeningLine().Match(line) is { Success: true } m)
            {
                listenedAfter = started.Elapsed;
                var host = m.Groups["host"].Value is "0.0.0.0" or "[::]" or "+" or "*" ? "127.0.0.1" : m.Groups["host"].Value;
                ready.TrySetResult(new Uri($"http://{host}:{m.Groups["port"].Value}"));
            }
            else if (e.Data is { } http && HttpListeningLine().Match(http) is { Success: true } h)
            {
                var host = h.Groups["host"].Value is "0.0.0.0" or "[::]" or "+" or "*" ? "127.0.0.1" : h.Groups["host"].Value;
                httpReady.TrySetResult(new Uri($"http://{host}:{h.Groups["port"].Value}"));
            }
        };
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is { } line)
            {
                milestones.Saw(line, started.Elapsed);
                if (line.Contains("SQL engine instance opened", StringComparison.Ordinal))
                {
                    // The sql harness reports each engine instance the server builds (one per lake version it queries).
                    Console.Error.WriteLine($"server: {line.Trim()}");
                }
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
            // The HTTP line follows the Flight line at once when the HTTP API is on.
            await Task.WhenAny(httpReady.Task, Task.Delay(TimeSpan.FromSeconds(2))).ConfigureAwait(false);
            var http = httpReady.Task.IsCompletedSuccessfully ? httpReady.Task.Result : null;
            return (new ServerProcess(process, ready.Task.Result, http, listenedAfter, milestones), null);
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

    [GeneratedRegex(@"^HTTP listening on http://(?<host>\[[^\]]+\]|[^:\s]+):(?<port>\d+)")]
    private static partial Regex HttpListeningLine();

    [GeneratedRegex(@"Flight listening on grpc(?:\+tcp)?://(?<host>\[[^\]]+\]|[^:\s]+):(?<port>\d+)")]
    private static partial Regex ListeningLine();
}
