using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// A C server's HTTP/2 and HTTP/1.1 output to curl on this machine: nginx (Debian's <c>nginx-light</c>, not
/// installed by the harness) serving a file of as many bytes as a full scan from the page cache, h2c on one port and
/// HTTP/1.1 on another, <c>sendfile off</c> (it copies from memory into the socket, as any server of Arrow data
/// must). The nearest stand-in here for issue 13's C++ Flight server, whose transport is C too: pyarrow cannot be
/// installed on this machine, nginx can.
/// </summary>
internal sealed class NginxPeer : IDisposable
{
    private readonly Process _process;
    private readonly string _dir;

    private NginxPeer(Process process, string dir, Uri http2, Uri http1)
    {
        _process = process;
        _dir = dir;
        Http2 = http2;
        Http1 = http1;
    }

    /// <summary>The file of the scan's size over h2c.</summary>
    public Uri Http2 { get; }

    /// <summary>The same file over HTTP/1.1.</summary>
    public Uri Http1 { get; }

    /// <summary>Why nginx cannot be run here (null when it can).</summary>
    public static string? Missing()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("nginx", "-v") { RedirectStandardError = true, UseShellExecute = false });
            p!.WaitForExit();
            return p.ExitCode == 0 ? null : $"nginx -v exited with {p.ExitCode}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return "nginx not found (apt-get install nginx-light): " + ex.Message;
        }
    }

    /// <summary>Starts nginx in the foreground on two free loopback ports, serving <paramref name="bytes"/> random bytes.</summary>
    public static async Task<NginxPeer> StartAsync(long bytes)
    {
        var dir = Path.Combine(Path.GetTempPath(), $"lakehouse-nginx-{Environment.ProcessId}-{Guid.NewGuid():N}");
        var www = Path.Combine(dir, "www");
        Directory.CreateDirectory(www);
        // nginx's workers run as nobody when the master is root: they must be able to read the file.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(dir, (UnixFileMode)0b111_101_101);
            File.SetUnixFileMode(www, (UnixFileMode)0b111_101_101);
        }
        await using (var file = File.Create(Path.Combine(www, "scan.bin")))
        {
            var block = new byte[1 << 20];
            new Random(7).NextBytes(block);
            for (var left = bytes; left > 0; left -= block.Length)
            {
                await file.WriteAsync(block.AsMemory(0, (int)Math.Min(left, block.Length))).ConfigureAwait(false);
            }
        }
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(Path.Combine(www, "scan.bin"), (UnixFileMode)0b110_100_100);
        }
        var (h2, h1) = (FreePort(), FreePort());
        var conf = Path.Combine(dir, "nginx.conf");
        await File.WriteAllTextAsync(conf, string.Create(CultureInfo.InvariantCulture, $$"""
            worker_processes 1;
            daemon off;
            pid {{dir}}/nginx.pid;
            error_log {{dir}}/error.log;
            events { worker_connections 64; }
            http {
              access_log off;
              sendfile off;
              http2_chunk_size 16k;
              server {
                listen 127.0.0.1:{{h2}} http2;
                listen 127.0.0.1:{{h1}};
                root {{www}};
              }
            }
            """)).ConfigureAwait(false);
        var psi = new ProcessStartInfo("nginx") { UseShellExecute = false, RedirectStandardError = true };
        foreach (var a in new[] { "-p", dir, "-e", Path.Combine(dir, "error.log"), "-c", conf })
        {
            psi.ArgumentList.Add(a);
        }
        var process = Process.Start(psi) ?? throw new InvalidOperationException("nginx did not start");
        var peer = new NginxPeer(process, dir, new Uri($"http://127.0.0.1:{h2}/scan.bin"), new Uri($"http://127.0.0.1:{h1}/scan.bin"));
        try
        {
            var until = DateTime.UtcNow + TimeSpan.FromSeconds(20);
            while (!Accepts(h2) || !Accepts(h1))
            {
                if (process.HasExited || DateTime.UtcNow > until)
                {
                    throw new InvalidOperationException("nginx did not listen: " + await process.StandardError.ReadToEndAsync().ConfigureAwait(false));
                }
                await Task.Delay(50).ConfigureAwait(false);
            }
            return peer;
        }
        catch
        {
            peer.Dispose();
            throw;
        }
    }

    /// <summary>nginx's CPU time so far (master and its one worker).</summary>
    public TimeSpan CpuTime()
    {
        var total = TimeSpan.Zero;
        foreach (var pid in new[] { _process.Id }.Concat(Children(_process.Id)))
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var f = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            var ticks = long.Parse(f[11], CultureInfo.InvariantCulture) + long.Parse(f[12], CultureInfo.InvariantCulture);
            total += TimeSpan.FromSeconds(ticks / 100.0);
        }
        return total;
    }

    private static IEnumerable<int> Children(int pid)
    {
        var path = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(path)
            ? File.ReadAllText(path).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(s => int.Parse(s, CultureInfo.InvariantCulture))
            : [];
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static bool Accepts(int port)
    {
        try
        {
            using var client = new TcpClient();
            client.Connect(IPAddress.Loopback, port);
            return true;
        }
        catch (SocketException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                // SIGQUIT would be nginx's graceful stop; the harness is done with it, so kill the group's master and worker.
                foreach (var child in Children(_process.Id).ToList())
                {
                    try
                    {
                        Process.GetProcessById(child).Kill();
                    }
                    catch (ArgumentException)
                    {
                    }
                }
                _process.Kill();
                _process.WaitForExit(10_000);
            }
        }
        finally
        {
            _process.Dispose();
            try
            {
                Directory.Delete(_dir, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }
}
