using System.Buffers.Binary;
using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>
/// The server's own output rate with curl (a C HTTP/2 and HTTP/1.1 client) as the reader: no .NET client
/// shares the process budget with the server. DoGet is a POST of a length-prefixed FlightTicket with the
/// gRPC headers; the HTTP Arrow stream a plain GET. One curl process per call: curl 7.88 cannot reuse a
/// prior-knowledge h2c connection to Kestrel (the second request fails with "Error in the HTTP2 framing
/// layer"), so each time is <c>time_total - time_pretransfer</c> (request sent to last byte; process start
/// and connection set-up excluded).
/// </summary>
internal sealed class CurlRuns(Uri flight, Uri? http)
{
    public sealed record Call(long Bytes, double Seconds);

    /// <summary>Whether curl can be run at all (the figures read "curl unavailable" otherwise).</summary>
    public static string? Missing()
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("curl", "--version") { RedirectStandardOutput = true, UseShellExecute = false });
            p!.StandardOutput.ReadToEnd();
            p.WaitForExit();
            return p.ExitCode == 0 ? null : $"curl --version exited with {p.ExitCode}";
        }
        catch (System.ComponentModel.Win32Exception ex)
        {
            return "curl not found: " + ex.Message;
        }
    }

    public async Task<List<Call>> DoGetAsync(string ticketJson, int calls)
    {
        var file = Path.Combine(Path.GetTempPath(), $"lakehouse-ticket-{Environment.ProcessId}-{Guid.NewGuid():N}.bin");
        await File.WriteAllBytesAsync(file, GrpcFrame(Encoding.UTF8.GetBytes(ticketJson))).ConfigureAwait(false);
        try
        {
            var url = new Uri(flight, "/arrow.flight.protocol.FlightService/DoGet").ToString();
            return await RunAsync(calls, ["-s", "--http2-prior-knowledge", "-H", "content-type: application/grpc", "-H", "te: trailers",
                "--data-binary", "@" + file, url]).ConfigureAwait(false);
        }
        finally
        {
            File.Delete(file);
        }
    }

    public Task<List<Call>> HttpArrowAsync(string parameters, int calls) =>
        http is null
            ? throw new InvalidOperationException("the server printed no 'HTTP listening on' line")
            : RunAsync(calls, ["-s", new Uri(http, "/prices/arrow?" + parameters).ToString()]);

    /// <summary>A plain GET of <paramref name="url"/> over h2c (prior knowledge) or HTTP/1.1.</summary>
    public static Task<List<Call>> GetAsync(Uri url, bool http2, int calls) =>
        RunAsync(calls, http2 ? ["-s", "--http2-prior-knowledge", url.ToString()] : ["-s", url.ToString()]);

    private static async Task<List<Call>> RunAsync(int calls, string[] args)
    {
        var list = new List<Call>(calls);
        for (var i = 0; i < calls; i++)
        {
            var psi = new ProcessStartInfo("curl") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args)
            {
                psi.ArgumentList.Add(a);
            }
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add("/dev/null");
            psi.ArgumentList.Add("-w");
            psi.ArgumentList.Add("%{size_download} %{time_total} %{time_pretransfer} %{http_code}");
            using var p = Process.Start(psi)!;
            var output = await p.StandardOutput.ReadToEndAsync().ConfigureAwait(false);
            await p.WaitForExitAsync().ConfigureAwait(false);
            var f = output.Split(' ');
            if (p.ExitCode != 0 || f.Length < 4 || f[3] != "200")
            {
                throw new InvalidOperationException($"curl exited with {p.ExitCode}, output '{output}'");
            }
            list.Add(new Call(long.Parse(f[0], CultureInfo.InvariantCulture),
                double.Parse(f[1], CultureInfo.InvariantCulture) - double.Parse(f[2], CultureInfo.InvariantCulture)));
        }
        return list;
    }

    /// <summary>A gRPC message (uncompressed flag, big-endian length) holding a Flight Ticket (field 1, bytes).</summary>
    private static byte[] GrpcFrame(byte[] ticket)
    {
        var message = new List<byte> { 0x0A };
        var n = (uint)ticket.Length;
        while (n >= 0x80)
        {
            message.Add((byte)(n | 0x80));
            n >>= 7;
        }
        message.Add((byte)n);
        message.AddRange(ticket);
        var frame = new byte[5 + message.Count];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), message.Count);
        message.CopyTo(frame, 5);
        return frame;
    }
}
