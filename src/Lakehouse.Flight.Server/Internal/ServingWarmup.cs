using System.Buffers.Binary;
using System.Globalization;
using System.IO.Pipelines;
using System.Net;
using System.Net.Http.Headers;
using System.Runtime;
using System.Security.Cryptography.X509Certificates;
using Apache.Arrow;
using Google.Protobuf;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.Logging.Abstractions;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>
/// Runs the serving code once the cache is warm (docs/decisions.md D30), so the first clients meet compiled
/// code: a fresh server spent its first scans and its first thousands of point queries in the JIT (ours,
/// Arrow's, FlatBuffers' and Protocol Buffers' code is not precompiled; ASP.NET's precompiled code is
/// compiled again, with profile data, once hot). Two phases over silver prices, reads only:
/// <list type="number">
/// <item>In the process: a scan and point queries through the ticket codec and <see cref="DoGetStreamer"/>,
/// framed as FlightData and as the HTTP Arrow stream into a pipe that is drained and dropped (a streamer of
/// its own, so the server's counters and log do not see them). Cheap: the reads' code compiled once.</item>
/// <item>Over the server's own Flight port (<see cref="LoopbackAsync"/>): the same queries as DoGet calls,
/// so Kestrel's HTTP/2 path, the request guard and FastDoGet are compiled too, until the runtime compiles
/// almost nothing more. These are real calls: the server's counters count them.</item>
/// </list>
/// </summary>
internal sealed class ServingWarmup(LakeStore store, LakehouseServerOptions options, TokenService tokens)
{
    /// <summary>Rounds of the scan and the point queries in the process.</summary>
    internal const int Rounds = 2;

    /// <summary>Rows a warm-up scan reads (the first symbols of the table up to this many): ~30 messages of 1 MiB.</summary>
    internal const long ScanRows = 400_000;

    /// <summary>Point queries (one symbol, one month) per round.</summary>
    internal const int PointsPerRound = 250;

    /// <summary>Calls per round over the Flight port once the runtime counts calls (the scan, then point queries): past its 30-call mark twice.</summary>
    internal const int CountedCalls = 64;

    /// <summary>Pause before the counted calls: longer than the 100 ms without a newly compiled method the runtime waits for before it counts calls.</summary>
    internal static readonly TimeSpan CountingDelay = TimeSpan.FromMilliseconds(150);

    /// <summary>Most rounds over the Flight port; the warm-up stops earlier once two rounds in a row compile fewer than <see cref="QuietMethods"/> methods each.</summary>
    internal const int LoopbackRounds = 20;

    /// <summary>Rounds over the Flight port before the warm-up may stop.</summary>
    internal const int MinLoopbackRounds = 3;

    /// <summary>How often the settling after a round looks at the runtime's compiled-method count.</summary>
    internal static readonly TimeSpan SettlePoll = TimeSpan.FromMilliseconds(60);

    /// <summary>Longest settling after a round.</summary>
    internal static readonly TimeSpan SettleMax = TimeSpan.FromSeconds(2);

    /// <summary>Methods compiled in a round (and its pause) below which the code counts as warm.</summary>
    internal const int QuietMethods = 25;

    /// <summary>What the warm-up did: reads in the process, calls over the Flight port, bytes serialised, methods the runtime compiled meanwhile, the process's CPU time meanwhile.</summary>
    internal readonly record struct Result(int Calls, int LoopbackCalls, long Bytes, long Methods, TimeSpan Cpu);

    /// <summary>The server's own Flight port, and the certificate it presents there (null: h2c).</summary>
    internal sealed record Loopback(Uri Address, X509Certificate2? Certificate);

    public async Task<Result> RunAsync(Loopback loopback, CancellationToken cancellationToken)
    {
        // Lakehouse:WarmServingTime: the calls over the Flight port stop at the first round that ends past it (after the minimum rounds).
        var deadline = Environment.TickCount64 + (long)Math.Min(options.WarmServingTime.TotalMilliseconds, int.MaxValue);
        var methods = JitInfo.GetCompiledMethodCount();
        var cpu = Environment.CpuUsage.TotalTime;
        var table = store.Catalog.Tables.First(t => t.Layer == Layer.Silver && t.Name == PriceTables.PricesDaily);
        var symbols = store.SymbolsFor(Query(table));
        if (symbols.Count == 0)
        {
            return default;
        }
        var scan = Query(table, ScanWindow(table, symbols, cancellationToken));
        var points = PointQueries(table, symbols, cancellationToken);

        // In the process first (cheap: compiles the reads and both framings once, before calls pay for it).
        // A streamer of its own: same code, but the server's counters and log lines are not touched.
        var streamer = new DoGetStreamer(store, options, new FlightMetrics(), NullLogger<DoGetStreamer>.Instance);
        var pipe = new Pipe();
        var drain = DrainAsync(pipe.Reader);
        var calls = 0;
        try
        {
            for (var round = 0; round < Rounds; round++)
            {
                // The Flight framing and the HTTP Arrow stream both.
                await ServeAsync(streamer, pipe.Writer, scan, http: false, cancellationToken).ConfigureAwait(false);
                await ServeAsync(streamer, pipe.Writer, scan, http: true, cancellationToken).ConfigureAwait(false);
                calls += 2;
                for (var i = 0; i < PointsPerRound && points.Count > 0; i++)
                {
                    await ServeAsync(streamer, pipe.Writer, points[calls % points.Count], http: false, cancellationToken).ConfigureAwait(false);
                    calls++;
                }
            }
        }
        finally
        {
            await pipe.Writer.CompleteAsync().ConfigureAwait(false);
        }
        var bytes = await drain.ConfigureAwait(false);
        var (loopbackCalls, sent) = await LoopbackAsync(loopback, scan, points, deadline, cancellationToken).ConfigureAwait(false);
        return new Result(calls, loopbackCalls, bytes + sent, JitInfo.GetCompiledMethodCount() - methods, Environment.CpuUsage.TotalTime - cpu);
    }

    /// <summary>
    /// Reads of the default table (silver prices) as DoGet calls to the server's own Flight port over one HTTP/2
    /// connection, so Kestrel's HTTP/2 path, the request guard and FastDoGet are compiled too: they are most of a
    /// point query's cost while cold, and ASP.NET's precompiled code is replaced by tier-1 code only once hot.
    /// In rounds shaped for the runtime's tiering: a few calls, a pause longer than the 100 ms without a new
    /// method it waits for before it counts calls, <see cref="CountedCalls"/> calls (past its 30-call mark),
    /// then the time it takes to compile what they made hot. Stops when two rounds in a row compile fewer than
    /// <see cref="QuietMethods"/> methods each, at most <see cref="LoopbackRounds"/> rounds. With authentication on,
    /// the calls carry a reader token issued for the warm-up and revoked after it.
    /// </summary>
    private async Task<(int Calls, long Bytes)> LoopbackAsync(Loopback loopback, TableQuery scan, List<TableQuery> points, long deadline,
        CancellationToken cancellationToken)
    {
        var token = tokens.Enabled ? tokens.Issue(new Caller("serving-warm-up", Role.Reader)) : null;
        using var handler = new SocketsHttpHandler { UseProxy = false, AllowAutoRedirect = false };
        if (loopback.Certificate is { } certificate)
        {
            // Our own port: trust exactly the certificate it presents.
            handler.SslOptions.RemoteCertificateValidationCallback = (_, presented, _, _) =>
                presented is not null && presented.GetCertHash().AsSpan().SequenceEqual(certificate.GetCertHash());
        }
        using var http = new HttpClient(handler);
        var uri = new Uri(loopback.Address, FastDoGet.Path);
        var scanFrame = TicketFrame(QueryCodec.Encode(scan));
        var pointFrames = points.Select(p => TicketFrame(QueryCodec.Encode(p))).DefaultIfEmpty(scanFrame).ToArray();
        var buffer = new byte[64 * 1024];
        var calls = 0;
        long bytes = 0;
        async Task CallsAsync(int n, bool withScan)
        {
            for (var i = 0; i < n; i++)
            {
                var frame = withScan && i == 0 ? scanFrame : pointFrames[calls % pointFrames.Length];
                bytes += await DoGetAsync(http, uri, token, frame, buffer, cancellationToken).ConfigureAwait(false);
                calls++;
            }
        }
        try
        {
            var quiet = 0;
            for (var round = 0; round < LoopbackRounds && (round < MinLoopbackRounds || Environment.TickCount64 < deadline); round++)
            {
                var before = JitInfo.GetCompiledMethodCount();
                await CallsAsync(8, withScan: false).ConfigureAwait(false);
                await Task.Delay(CountingDelay, cancellationToken).ConfigureAwait(false);
                await CallsAsync(CountedCalls, withScan: true).ConfigureAwait(false);
                await SettleAsync(deadline, cancellationToken).ConfigureAwait(false);
                // Two quiet rounds in a row: one alone may have run before the runtime started counting.
                quiet = JitInfo.GetCompiledMethodCount() - before < QuietMethods ? quiet + 1 : 0;
                if (round >= MinLoopbackRounds - 1 && quiet >= 2)
                {
                    break;
                }
            }
        }
        finally
        {
            if (token is not null)
            {
                tokens.Revoke(token);
            }
        }
        return (calls, bytes);
    }

    /// <summary>
    /// Waits while the runtime compiles what the round made hot: until nothing more was compiled over two
    /// looks <see cref="SettlePoll"/> apart, at most <see cref="SettleMax"/> and not past the warm-up's deadline.
    /// </summary>
    private static async Task SettleAsync(long warmUpDeadline, CancellationToken cancellationToken)
    {
        var deadline = Math.Min(Environment.TickCount64 + (long)SettleMax.TotalMilliseconds, warmUpDeadline);
        var last = JitInfo.GetCompiledMethodCount();
        var still = 0;
        while (still < 2 && Environment.TickCount64 < deadline)
        {
            await Task.Delay(SettlePoll, cancellationToken).ConfigureAwait(false);
            var now = JitInfo.GetCompiledMethodCount();
            still = now == last ? still + 1 : 0;
            last = now;
        }
    }

    /// <summary>One DoGet over HTTP/2 (a gRPC request carrying the ticket), read into <paramref name="buffer"/> and dropped; the bytes of the answer. Throws when the status is not OK.</summary>
    private static async Task<long> DoGetAsync(HttpClient http, Uri uri, string? token, byte[] ticketFrame, byte[] buffer, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, uri)
        {
            Content = new ByteArrayContent(ticketFrame),
            Version = HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/grpc");
        request.Headers.TE.Add(new TransferCodingWithQualityHeaderValue("trailers"));
        if (token is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        }
        using var response = await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken).ConfigureAwait(false);
        long bytes = 0;
        var stream = await response.Content.ReadAsStreamAsync(cancellationToken).ConfigureAwait(false);
        await using (stream.ConfigureAwait(false))
        {
            int n;
            while ((n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false)) > 0)
            {
                bytes += n;
            }
        }
        var status = response.TrailingHeaders.TryGetValues("grpc-status", out var values) ? values.FirstOrDefault() : null;
        if (response.StatusCode != HttpStatusCode.OK || status != "0")
        {
            throw new IOException($"the warm-up's DoGet to its own port answered HTTP {(int)response.StatusCode}, grpc-status {status ?? "none"}");
        }
        return bytes;
    }

    /// <summary>A gRPC message (5-byte prefix) holding a Flight Ticket whose field 1 is <paramref name="ticket"/>.</summary>
    internal static byte[] TicketFrame(byte[] ticket)
    {
        var length = 1 + CodedOutputStream.ComputeLengthSize(ticket.Length) + ticket.Length;
        var frame = new byte[5 + length];
        BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), length);
        frame[5] = (1 << 3) | 2;
        var n = 6 + FlightDataPipeStream.WriteVarint(frame.AsSpan(6), (uint)ticket.Length);
        ticket.CopyTo(frame.AsSpan(n));
        return frame;
    }

    /// <summary>One read as DoGet serves it below the transport (or as the HTTP Arrow stream), into the drained pipe.</summary>
    private static async Task ServeAsync(DoGetStreamer streamer, PipeWriter pipe, TableQuery query, bool http, CancellationToken cancellationToken)
    {
        // Through the ticket codec, as a client's ticket arrives.
        var (parsed, compression) = QueryCodec.ParseTicket(QueryCodec.Encode(query));
        using var sink = http
            ? new IpcPipeSink(new PipeBodyStream(pipe), compression, writeEnd: true)
            : new IpcPipeSink(new FlightDataPipeStream(pipe), compression, writeEnd: false);
        await streamer.StreamAsync(parsed, sink, cancellationToken).ConfigureAwait(false);
        if (http)
        {
            await sink.EndAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The first symbols of the table whose rows add up to <see cref="ScanRows"/> (all of them in a smaller lake).</summary>
    private List<string> ScanWindow(TableDefinition table, IReadOnlyList<string> symbols, CancellationToken cancellationToken)
    {
        var window = new List<string>();
        long rows = 0;
        foreach (var symbol in symbols)
        {
            window.Add(symbol);
            rows += store.Plan(Query(table, [symbol]), cancellationToken).Sum(p => p.Rows);
            if (rows >= ScanRows)
            {
                break;
            }
        }
        return window;
    }

    /// <summary>One query per symbol (up to <see cref="PointsPerRound"/> symbols): its latest month, as a user's point query asks it.</summary>
    private List<TableQuery> PointQueries(TableDefinition table, IReadOnlyList<string> symbols, CancellationToken cancellationToken)
    {
        var queries = new List<TableQuery>();
        var dateColumn = table.Schema.GetFieldIndex(table.DateColumn);
        foreach (var symbol in symbols.Take(PointsPerRound))
        {
            var last = store.Read(Query(table, [symbol]), cancellationToken).LastOrDefault(b => b.Length > 0);
            if (last?.Column(dateColumn) is not Date32Array dates || dates.GetDateOnly(last.Length - 1) is not { } date)
            {
                continue;
            }
            var (year, month) = table.PartitionOf(date);
            var (first, end) = table.Bounds(year, month);
            queries.Add(Query(table, [symbol], first, end));
        }
        return queries;
    }

    private static TableQuery Query(TableDefinition table, IEnumerable<string>? symbols = null, DateOnly? from = null, DateOnly? to = null) =>
        TableQuery.Create(Layers.Name(table.Layer), table.Name, symbols, Day(from), Day(to));

    private static string? Day(DateOnly? date) => date?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    /// <summary>Reads and drops what the calls write, as a client would; the total bytes.</summary>
    private static async Task<long> DrainAsync(PipeReader reader)
    {
        long bytes = 0;
        while (true)
        {
            var result = await reader.ReadAsync().ConfigureAwait(false);
            bytes += result.Buffer.Length;
            reader.AdvanceTo(result.Buffer.End);
            if (result.IsCompleted)
            {
                await reader.CompleteAsync().ConfigureAwait(false);
                return bytes;
            }
        }
    }
}
