using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// Kestrel's own output ceiling to curl on this machine: a bare Kestrel in a process of its own (this
/// harness run as <c>kestrel-ceiling</c>, the same runtime settings as <c>lakehouse serve</c>) answers
/// <c>/bytes?n=N</c> with N bytes copied from one prepared buffer in 1 MiB writes of 64 KiB pieces, one flush each (what a
/// DoGet does per message, minus reading the cache and building IPC headers), over h2c on one port and
/// HTTP/1.1 on another. A DoGet's rate over this is how much of the transport the server leaves unused.
/// </summary>
internal sealed class KestrelCeiling : IDisposable
{
    private const int WriteBytes = 1 << 20;
    private const int PieceBytes = 64 * 1024;
    private readonly Process _process;

    private KestrelCeiling(Process process, Uri http2, Uri http1)
    {
        _process = process;
        Http2 = http2;
        Http1 = http1;
    }

    public Uri Http2 { get; }

    public Uri Http1 { get; }

    /// <summary>Starts the ceiling server as a child process and waits for its two addresses.</summary>
    public static async Task<KestrelCeiling> StartAsync()
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(typeof(KestrelCeiling).Assembly.Location);
        psi.ArgumentList.Add("kestrel-ceiling");
        psi.Environment["DOTNET_gcServer"] = "0";
        var process = Process.Start(psi) ?? throw new InvalidOperationException("dotnet did not start");
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            var h2 = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            var h1 = await process.StandardOutput.ReadLineAsync(timeout.Token).ConfigureAwait(false);
            if (h2 is null || h1 is null)
            {
                throw new InvalidOperationException("the Kestrel ceiling server printed no addresses");
            }
            return new KestrelCeiling(process, new Uri(h2), new Uri(h1));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    /// <summary>The ceiling server's CPU time so far (utime + stime).</summary>
    public TimeSpan CpuTime()
    {
        _process.Refresh();
        return _process.TotalProcessorTime;
    }

    /// <summary>The child: serve until stdin closes; print the h2c address, then the HTTP/1.1 one.</summary>
    public static async Task<int> ServeAsync()
    {
        var source = new byte[WriteBytes];
        new Random(7).NextBytes(source);
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = ["--hostBuilder:reloadConfigOnChange=false"] });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k =>
        {
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http2);
            k.Listen(IPAddress.Loopback, 0, l => l.Protocols = HttpProtocols.Http1);
        });
        await using var app = builder.Build();
        app.MapGet("/bytes", async context =>
        {
            var n = long.Parse(context.Request.Query["n"].ToString(), CultureInfo.InvariantCulture);
            context.Response.ContentType = "application/octet-stream";
            var pipe = context.Response.BodyWriter;
            while (n > 0)
            {
                var chunk = (int)Math.Min(n, WriteBytes);
                // In 64 KiB pieces, as the server writes (decisions D33): Write(span) would take Kestrel's 4 KiB blocks.
                for (var at = 0; at < chunk;)
                {
                    var into = pipe.GetSpan(Math.Min(chunk - at, PieceBytes));
                    var piece = Math.Min(into.Length, chunk - at);
                    source.AsSpan(at, piece).CopyTo(into);
                    pipe.Advance(piece);
                    at += piece;
                }
                n -= chunk;
                var flushed = await pipe.FlushAsync(context.RequestAborted).ConfigureAwait(false);
                if (flushed.IsCanceled || flushed.IsCompleted)
                {
                    return;
                }
            }
        });
        await app.StartAsync().ConfigureAwait(false);
        // Bound in the order listened: h2c first.
        foreach (var address in app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses)
        {
            Console.WriteLine(address);
        }
        await Console.Out.FlushAsync().ConfigureAwait(false);
        await Console.In.ReadToEndAsync().ConfigureAwait(false);
        await app.StopAsync().ConfigureAwait(false);
        return 0;
    }

    public void Dispose()
    {
        try
        {
            _process.StandardInput.Close();
            if (!_process.WaitForExit(10_000))
            {
                _process.Kill();
            }
        }
        finally
        {
            _process.Dispose();
        }
    }
}
