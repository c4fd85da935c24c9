using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Compression;
using Apache.Arrow.Flight;
using Apache.Arrow.Ipc;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>The bulk Arrow IPC stream over HTTP (<c>GET /prices/arrow</c>) and IPC compression on it and on DoGet.</summary>
public sealed class ArrowStreamTests : IAsyncLifetime
{
    private TestServer _server = null!;
    private HttpClient _http = null!;

    public async Task InitializeAsync()
    {
        // Small messages so a symbol spans several slices: the streams must agree across the cuts too.
        _server = await TestServer.StartAsync(o => o.MaxSendMessageBytes = 64 * 1024);
        var bars = SyntheticBars.Generate(["MSFT", "AAPL", "^GSPC"], new DateOnly(2000, 1, 1), new DateOnly(2009, 12, 31));
        await _server.Server.Store.UpsertAsync(bars).DefaultTimeout();
        _http = new HttpClient { BaseAddress = _server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
    }

    public async Task DisposeAsync()
    {
        _http.Dispose();
        await _server.DisposeAsync();
    }

    [Theory]
    [InlineData("symbols=MSFT,AAPL&date_from=2003-02-01&date_to=2008-06-30&columns=symbol,date,close,volume",
        """{"symbols":["MSFT","AAPL"],"date_from":"2003-02-01","date_to":"2008-06-30","columns":["symbol","date","close","volume"]}""")]
    [InlineData("", "{}")]
    [InlineData("layer=silver&table=prices_daily&symbols=%5EGSPC", """{"layer":"silver","table":"prices_daily","symbols":["^GSPC"]}""")]
    public async Task HttpArrowStream_SameQueryAsDoGet_EqualSchemaValuesAndOrder(string parameters, string ticket)
    {
        using var response = await _http.GetAsync(new Uri("/prices/arrow?" + parameters, UriKind.Relative)).DefaultTimeout();
        var (httpSchema, httpRows) = await ReadIpcAsync(await response.Content.ReadAsStreamAsync().DefaultTimeout());
        var (flightSchema, flightRows) = await ReadDoGetAsync(ticket);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(HttpApiArrow, response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(flightSchema.FieldsList.Select(f => (f.Name, f.DataType.TypeId, f.IsNullable)),
            httpSchema.FieldsList.Select(f => (f.Name, f.DataType.TypeId, f.IsNullable)));
        Assert.True(flightRows.Count > 2000, $"only {flightRows.Count} rows: the query should span several messages");
        Assert.Equal(flightRows, httpRows);
    }

    [Fact]
    public async Task HttpArrowStream_EveryTableOfTheCatalogue_Served()
    {
        await _server.Server.Store.LandAsync(SyntheticBars.Generate(["IBM"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)), "vendor_x", promote: false)
            .DefaultTimeout();
        using var bronze = await _http.GetAsync(new Uri("/prices/arrow?layer=bronze&table=prices_daily&symbols=IBM", UriKind.Relative)).DefaultTimeout();
        using var actions = await _http.GetAsync(new Uri("/prices/arrow?table=corporate_actions", UriKind.Relative)).DefaultTimeout();
        var (_, bronzeRows) = await ReadIpcAsync(await bronze.Content.ReadAsStreamAsync().DefaultTimeout());
        var (actionsSchema, _) = await ReadIpcAsync(await actions.Content.ReadAsStreamAsync().DefaultTimeout());

        Assert.Equal(HttpStatusCode.OK, bronze.StatusCode);
        Assert.Equal(23, bronzeRows.Count);
        Assert.Equal(HttpStatusCode.OK, actions.StatusCode);
        Assert.Equal(Core.Tables.PriceTables.CorporateActionsSchema.FieldsList.Select(f => f.Name), actionsSchema.FieldsList.Select(f => f.Name));
    }

    [Fact]
    public async Task HttpArrowStream_EmptyResult_SchemaOnlyStream()
    {
        using var response = await _http.GetAsync(new Uri("/prices/arrow?symbols=NONE&columns=date,close", UriKind.Relative)).DefaultTimeout();
        var (schema, rows) = await ReadIpcAsync(await response.Content.ReadAsStreamAsync().DefaultTimeout());

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(["date", "close"], schema.FieldsList.Select(f => f.Name));
        Assert.Empty(rows);
    }

    [Theory]
    [InlineData("table=nope", "unknown dataset 'silver/nope'")]
    [InlineData("symbols=AAPL&date_from=2024-13-01", "date_from")]
    [InlineData("symbols=AAPL&columns=close,colour", "colour")]
    [InlineData("symbols=AAPL&compression=gzip", "unknown compression 'gzip': use none, lz4 or zstd")]
    [InlineData("symbols=%C3%A9/../x", "symbol 'é/../x' contains 'é'")]
    public async Task HttpArrowStream_BadParameter_ProblemJsonNamingIt(string parameters, string expected)
    {
        using var response = await _http.GetAsync(new Uri("/prices/arrow?" + parameters, UriKind.Relative)).DefaultTimeout();
        using var problem = JsonDocument.Parse(await response.Content.ReadAsStringAsync().DefaultTimeout());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains(expected, problem.RootElement.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task HttpArrowStream_Compressed_SameRowsFewerBytes(string compression)
    {
        const string Query = "/prices/arrow?symbols=AAPL,MSFT";
        var plain = await _http.GetByteArrayAsync(new Uri(Query, UriKind.Relative)).DefaultTimeout();
        using var response = await _http.GetAsync(new Uri($"{Query}&compression={compression}", UriKind.Relative)).DefaultTimeout();
        var packed = await response.Content.ReadAsByteArrayAsync().DefaultTimeout();
        var (_, plainRows) = await ReadIpcAsync(new MemoryStream(plain));
        var (_, packedRows) = await ReadIpcAsync(new MemoryStream(packed));

        Assert.Equal(compression, Assert.Single(response.Headers.GetValues("X-Arrow-Compression")));
        Assert.Equal(plainRows, packedRows);
        Assert.InRange(packed.Length, 1, plain.Length * 3 / 4);
    }

    [Fact]
    public async Task HttpArrowStream_OverHttp11_TensOfKilobytesPerChunk_SameStreamAsHttpClientReads()
    {
        // Response bytes go into the pipe 64 KiB at a time, so HTTP/1.1 chunks are large, not one per 4 KiB pool block (decisions D33).
        const string Query = "/prices/arrow?symbols=AAPL,MSFT";
        var expected = await _http.GetByteArrayAsync(new Uri(Query, UriKind.Relative)).DefaultTimeout();
        using var tcp = new System.Net.Sockets.TcpClient();
        await tcp.ConnectAsync(_server.Server.HttpEndpoint!.Host, _server.Server.HttpEndpoint.Port).DefaultTimeout();
        var stream = tcp.GetStream();
        await stream.WriteAsync(System.Text.Encoding.ASCII.GetBytes($"GET {Query} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n")).AsTask().DefaultTimeout();
        using var raw = new MemoryStream();
        await stream.CopyToAsync(raw).DefaultTimeout();

        var (head, chunks) = Dechunk(raw.ToArray());

        Assert.StartsWith("HTTP/1.1 200", head, StringComparison.Ordinal);
        Assert.Contains("Transfer-Encoding: chunked", head, StringComparison.OrdinalIgnoreCase);
        Assert.Equal(expected, chunks.SelectMany(c => c).ToArray());
        Assert.True(expected.Length > 200_000, $"only {expected.Length} bytes: too few to tell chunk sizes apart");
        // Each flush (one 64 KiB message here) may end in a short chunk; the rest must be far above 4 KiB.
        var average = expected.Length / chunks.Count;
        Assert.True(average >= 16 * 1024, $"{chunks.Count} chunks for {expected.Length} bytes: {average} bytes each");
    }

    [Fact]
    public async Task HttpArrowStream_AuthOn_ReaderTokenNeeded()
    {
        await using var server = await TestServer.StartAsync(TestServer.WithAuth);
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint, Timeout = TestTimeouts.Default };
        using var anonymous = await http.GetAsync(new Uri("/prices/arrow", UriKind.Relative)).DefaultTimeout();
        using var request = new HttpRequestMessage(HttpMethod.Get, new Uri("/prices/arrow", UriKind.Relative));
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", TestServer.ReaderToken);
        using var reader = await http.SendAsync(request).DefaultTimeout();
        var (schema, rows) = await ReadIpcAsync(await reader.Content.ReadAsStreamAsync().DefaultTimeout());

        Assert.Equal(HttpStatusCode.Unauthorized, anonymous.StatusCode);
        Assert.Equal(HttpStatusCode.OK, reader.StatusCode);
        Assert.Equal("symbol", schema.FieldsList[0].Name);
        Assert.Empty(rows);
    }

    [Theory]
    [InlineData("lz4")]
    [InlineData("zstd")]
    public async Task CompressedDoGet_ThroughTheClient_SameRowsAsUncompressed(string compression)
    {
        var query = TableQuery.Create(symbols: ["AAPL", "^GSPC"], dateFrom: "2001-01-01", dateTo: "2007-12-31");
        using var plainClient = _server.Client();
        using var packedClient = new LakehouseClient(_server.Endpoint, new LakehouseClientOptions { Compression = compression });
        var plain = await RowsAsync(plainClient.GetPricesAsync(query));
        var packed = await RowsAsync(packedClient.GetPricesAsync(query));
        // The stock Flight reader has no codec factory: it refusing the same ticket proves the bodies were compressed.
        var stock = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            using var call = _server.Raw.GetStream(new FlightTicket(QueryCodec.Encode(query, IpcCompression.Parse(compression))));
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
            }
        });

        Assert.True(plain.Count > 3000, $"only {plain.Count} rows");
        Assert.Equal(plain, packed);
        Assert.Contains("compress", stock.Message, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task CompressedDoGet_ErrorsAndEmptyResults_SameAsUncompressed()
    {
        using var client = new LakehouseClient(_server.Endpoint, new LakehouseClientOptions { Compression = "zstd" });
        var empty = await RowsAsync(client.GetPricesAsync(TableQuery.Create(symbols: ["NONE"])));
        var bad = await Assert.ThrowsAsync<RpcException>(() => RowsAsync(client.GetPricesAsync(TableQuery.Create(symbols: ["MSFT"], columns: ["colour"]))));

        Assert.Empty(empty);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Contains("colour", bad.Status.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CompressedDoGet_StockPath_UnimplementedSayingWhy()
    {
        await using var server = await TestServer.StartAsync(o => o.FastDoGet = false);
        var ex = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = server.Raw.GetStream(new FlightTicket("""{"compression":"zstd"}"""));
            await call.ResponseStream.MoveNext().DefaultTimeout();
        });

        Assert.Equal(StatusCode.Unimplemented, ex.StatusCode);
        Assert.Contains("Lakehouse:FastDoGet=true", ex.Status.Detail, StringComparison.Ordinal);
    }

    private const string HttpApiArrow = "application/vnd.apache.arrow.stream";

    private static readonly CompressionCodecFactory Codecs = new();

    /// <summary>An HTTP/1.1 response's head and the data of its chunks (the last, empty one left out).</summary>
    private static (string Head, List<byte[]> Chunks) Dechunk(byte[] response)
    {
        var end = response.AsSpan().IndexOf("\r\n\r\n"u8) + 4;
        var head = System.Text.Encoding.ASCII.GetString(response, 0, end);
        var chunks = new List<byte[]>();
        var at = end;
        while (true)
        {
            var line = response.AsSpan(at).IndexOf("\r\n"u8);
            var size = int.Parse(System.Text.Encoding.ASCII.GetString(response, at, line), NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            at += line + 2;
            if (size == 0)
            {
                return (head, chunks);
            }
            chunks.Add(response.AsSpan(at, size).ToArray());
            at += size + 2;
        }
    }

    private static async Task<(Schema Schema, List<string> Rows)> ReadIpcAsync(Stream stream)
    {
        using var reader = new ArrowStreamReader(stream, Codecs);
        var rows = new List<string>();
        while (await reader.ReadNextRecordBatchAsync().AsTask().DefaultTimeout() is { } batch)
        {
            rows.AddRange(Rows(batch));
        }
        return (reader.Schema, rows);
    }

    private async Task<(Schema Schema, List<string> Rows)> ReadDoGetAsync(string ticket)
    {
        using var call = _server.Raw.GetStream(new FlightTicket(ticket));
        var rows = new List<string>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            rows.AddRange(Rows(call.ResponseStream.Current));
        }
        return (await call.ResponseStream.Schema.AsTask().DefaultTimeout(), rows);
    }

    private static async Task<List<string>> RowsAsync(IAsyncEnumerable<RecordBatch> batches)
    {
        var rows = new List<string>();
        await foreach (var b in batches.WithCancellation(CancellationToken.None).ConfigureAwait(false))
        {
            rows.AddRange(Rows(b));
        }
        return rows;
    }

    /// <summary>Each row as text of every column (doubles round-trip exactly with "R").</summary>
    private static IEnumerable<string> Rows(RecordBatch batch)
    {
        for (var i = 0; i < batch.Length; i++)
        {
            yield return string.Join('|', Enumerable.Range(0, batch.ColumnCount).Select(c => PriceBarBatches.ValueAt(batch.Column(c), i) switch
            {
                null => "null",
                double d => d.ToString("R", CultureInfo.InvariantCulture),
                IFormattable f => f.ToString(null, CultureInfo.InvariantCulture),
                var v => v.ToString(),
            }));
        }
    }
}
