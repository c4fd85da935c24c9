using System.Diagnostics;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Flight.Client;
using Grpc.Net.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>The server measured through the raw Apache.Arrow.Flight client over Grpc.Net.Client, as any .NET user would.</summary>
internal sealed class FlightRuns : IDisposable
{
    private readonly Uri _address;
    private readonly GrpcChannel _channel;
    private readonly FlightClient _client;

    public FlightRuns(Uri address)
    {
        _address = address;
        _channel = NewChannel(address);
        _client = new FlightClient(_channel);
    }

    private static GrpcChannel NewChannel(Uri address) => GrpcChannel.ForAddress(address, new GrpcChannelOptions
    {
        MaxReceiveMessageSize = 1 << 30,
        MaxSendMessageSize = 1 << 30,
    });

    public static byte[] Json(TableQuery q) => QueryCodec.Encode(q);

    public static FlightTicket Ticket(TableQuery q) => new(Google.Protobuf.ByteString.CopyFrom(Json(q)));

    /// <summary>Reads a ticket's stream to the end: its rows and Arrow bytes.</summary>
    internal static async Task<(long Rows, long Bytes)> DrainAsync(FlightClient client, FlightTicket ticket)
    {
        using var call = client.GetStream(ticket);
        long rows = 0, bytes = 0;
        while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
        {
            var batch = call.ResponseStream.Current;
            rows += batch.Length;
            bytes += Stats.ArrowBytes(batch);
            batch.Dispose();
        }
        return (rows, bytes);
    }

    public async Task<List<double>> PointQueriesAsync(IReadOnlyList<TableQuery> queries)
    {
        var samples = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            var ticket = Ticket(q);
            var start = Stopwatch.GetTimestamp();
            var (rows, _) = await DrainAsync(_client, ticket).ConfigureAwait(false);
            samples.Add(Stats.Ms(start));
            if (rows == 0)
            {
                throw new InvalidOperationException($"DoGet {Encoding.UTF8.GetString(Json(q))} returned no rows");
            }
        }
        return samples;
    }

    /// <summary>One DoGet of the whole universe (ticket with no symbols = every symbol).</summary>
    public async Task<InProcessRuns.Scan> FullScanOneStreamAsync()
    {
        var start = Stopwatch.GetTimestamp();
        var (rows, bytes) = await DrainAsync(_client, Ticket(TableQuery.Create())).ConfigureAwait(false);
        return new InProcessRuns.Scan(rows, bytes, Stopwatch.GetElapsedTime(start).TotalSeconds);
    }

    /// <summary>GetFlightInfo for the universe (one endpoint per symbol), endpoints dealt round-robin to N tasks, each on its own connection.</summary>
    public async Task<(InProcessRuns.Scan Scan, int Endpoints)> FullScanParallelAsync(int streams)
    {
        var start = Stopwatch.GetTimestamp();
        var info = await _client.GetInfo(FlightDescriptor.CreateCommandDescriptor(Json(TableQuery.Create()))).ResponseAsync.ConfigureAwait(false);
        var endpoints = info.Endpoints;
        var tasks = Enumerable.Range(0, streams).Select(k => Task.Run(async () =>
        {
            using var channel = NewChannel(_address);
            var client = new FlightClient(channel);
            long rows = 0, bytes = 0;
            for (var i = k; i < endpoints.Count; i += streams)
            {
                var (r, b) = await DrainAsync(client, endpoints[i].Ticket).ConfigureAwait(false);
                rows += r;
                bytes += b;
            }
            return (rows, bytes);
        })).ToArray();
        var parts = await Task.WhenAll(tasks).ConfigureAwait(false);
        return (new InProcessRuns.Scan(parts.Sum(p => p.rows), parts.Sum(p => p.bytes), Stopwatch.GetElapsedTime(start).TotalSeconds), endpoints.Count);
    }

    public async Task<List<double>> PlanOneSymbolAsync(IReadOnlyList<TableQuery> queries)
    {
        var samples = new List<double>(queries.Count);
        foreach (var q in queries)
        {
            var descriptor = FlightDescriptor.CreateCommandDescriptor(Json(q));
            var start = Stopwatch.GetTimestamp();
            var info = await _client.GetInfo(descriptor).ResponseAsync.ConfigureAwait(false);
            samples.Add(Stats.Ms(start));
            if (info.Endpoints.Count != 1)
            {
                throw new InvalidOperationException($"GetFlightInfo for one symbol gave {info.Endpoints.Count} endpoints");
            }
        }
        return samples;
    }

    /// <summary>DoPut of new symbols into bronze with promote, one call per <paramref name="symbolsPerPut"/> symbols; rows and seconds.</summary>
    public async Task<(long Rows, double Seconds, string LastReport)> PutAsync(IReadOnlyList<string> symbols, DateOnly from, DateOnly to, int symbolsPerPut)
    {
        var command = Encoding.UTF8.GetBytes("""{"table":"prices_daily","source":"bench","promote":true}""");
        long rows = 0;
        var last = "";
        var batches = new List<RecordBatch>();
        for (var i = 0; i < symbols.Count; i += symbolsPerPut)
        {
            // Built before the clock starts: the figure is the server's ingest rate, not the generator's.
            batches.Add(PriceBarBatches.ToBatch(SyntheticBars.Generate(symbols.Skip(i).Take(symbolsPerPut), from, to)));
        }
        var start = Stopwatch.GetTimestamp();
        foreach (var batch in batches)
        {
            using var call = _client.StartPut(FlightDescriptor.CreateCommandDescriptor(command));
            await call.RequestStream.WriteAsync(batch).ConfigureAwait(false);
            await call.RequestStream.CompleteAsync().ConfigureAwait(false);
            while (await call.ResponseStream.MoveNext(CancellationToken.None).ConfigureAwait(false))
            {
                last = call.ResponseStream.Current.ApplicationMetadata.ToStringUtf8();
            }
            rows += batch.Length;
        }
        return (rows, Stopwatch.GetElapsedTime(start).TotalSeconds, last);
    }

    public void Dispose() => _channel.Dispose();
}
