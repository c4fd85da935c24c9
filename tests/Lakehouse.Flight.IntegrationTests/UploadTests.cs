using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Flight;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class UploadTests : IAsyncLifetime
{
    private const int Cap = 100;
    private static readonly IReadOnlyList<PriceBar> Jan = SyntheticBars.Generate(["IBM"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync(o => o.MaxUploadRows = Cap);
        // Something on disk already, so "unchanged" after a refused upload means something.
        using var client = _server.Client();
        await client.UploadAsync(SyntheticBars.Generate(["KO"], new DateOnly(2024, 1, 1), new DateOnly(2024, 2, 29)), "seed", promote: true)
            .DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task RawDoPut_PandasTypes_AreConvertedLosslesslyAndReadBack()
    {
        // What pyarrow.Table.from_pandas makes of a frame with a datetime64[ns] column and its index.
        var batch = Batch(Jan,
            ("symbol", b => Large(b.Select(x => x.Symbol))),
            ("date", b => Timestamps(b, TimeUnit.Nanosecond, TimeSpan.Zero)),
            ("open", b => Doubles(b.Select(x => (double?)x.Open))),
            ("high", b => Doubles(b.Select(x => (double?)x.High))),
            ("low", b => Doubles(b.Select(x => (double?)x.Low))),
            ("close", b => Doubles(b.Select(x => (double?)x.Close))),
            ("adj_close", b => Doubles(b.Select(x => x.AdjClose))),
            ("volume", b => Longs(b.Select(x => x.Volume))),
            ("__index_level_0__", b => Longs(b.Select((_, i) => (long)i))));

        var reports = await Put("""{"table":"prices_daily","source":"vendor_x","promote":true,"wait":true}""", batch);

        Assert.Equal(["bronze", "silver"], reports.Select(r => r.Layer));
        Assert.All(reports, r => Assert.Equal((Jan.Count, (long)Jan.Count, "IBM"), (r.Rows, r.Inserted, r.Symbol)));
        using var client = _server.Client();
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["IBM"])).ToListAsync();
        Assert.Equal(Jan.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)),
            read.Select(b => (b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)));
        Assert.All(read, b => Assert.Equal("vendor_x", b.Source));
    }

    [Fact]
    public async Task RawDoPut_WithoutWait_IsAnsweredOnceDurable_AndTheNextQueryReadsEveryRow()
    {
        var bars = SyntheticBars.Generate(["DFLT"], new DateOnly(2023, 12, 1), new DateOnly(2024, 2, 29));
        var batch = Batch(bars,
            ("symbol", b => Strings(b.Select(x => x.Symbol))),
            ("date", b => Timestamps(b, TimeUnit.Nanosecond, TimeSpan.Zero)),
            ("open", b => Doubles(b.Select(x => (double?)x.Open))),
            ("high", b => Doubles(b.Select(x => (double?)x.High))),
            ("low", b => Doubles(b.Select(x => (double?)x.Low))),
            ("close", b => Doubles(b.Select(x => (double?)x.Close))),
            ("volume", b => Longs(b.Select(x => x.Volume))));

        using var answer = await PutRaw("""{"source":"vendor_d","promote":true}""", batch);

        // No flags: answered once durable (the write-ahead log) and readable, before the files are written.
        var ack = answer.RootElement;
        Assert.Equal(("durable", true, (long)bars.Count), (ack.GetProperty("state").GetString(), ack.GetProperty("visible").GetBoolean(), ack.GetProperty("rows").GetInt64()));
        using var client = _server.Client();
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["DFLT"])).ToListAsync();
        Assert.Equal(bars.Select(b => (b.Date, b.Close, b.Volume)), read.Select(b => (b.Date, b.Close, b.Volume)));
        var applied = await client.WaitForUploadAsync(ack.GetProperty("run_id").GetString()!).DefaultTimeout();
        Assert.Equal([("bronze", (long)bars.Count), ("silver", (long)bars.Count)], applied.Select(r => (r.Layer, r.Inserted)));
        // Applied: the files hold them (a store of its own reads the table's files).
        var files = LakeStore.Open(new StoreOptions { DataDir = _server.DataDir, CacheBytes = 0 });
        Assert.Equal(bars.Count, files.Read(TableQuery.Create(symbols: ["DFLT"])).Sum(b => b.Length));
    }

    [Fact]
    public async Task RawDoPut_WithoutWait_BronzeOnly_IsAnsweredOnceApplied_SoTheNextQueryReadsIt()
    {
        var batch = Batch(Jan,
            ("symbol", b => Strings(b.Select(x => x.Symbol))),
            ("date", b => new Date32Array.Builder().AppendRange(b.Select(x => x.Date)).Build()),
            ("open", b => Doubles(b.Select(x => (double?)x.Open))),
            ("high", b => Doubles(b.Select(x => (double?)x.High))),
            ("low", b => Doubles(b.Select(x => (double?)x.Low))),
            ("close", b => Doubles(b.Select(x => (double?)x.Close))),
            ("volume", b => Longs(b.Select(x => x.Volume))));

        // Bronze is not held in the read buffer: the default answer waits for the files instead.
        using var answer = await PutRaw("""{"source":"vendor_b"}""", batch);

        Assert.Equal(("applied", true), (answer.RootElement.GetProperty("state").GetString(), answer.RootElement.GetProperty("visible").GetBoolean()));
        using var client = _server.Client();
        var bronze = await client.GetPricesAsync(TableQuery.Create("bronze", symbols: ["IBM"])).ToListAsync();
        Assert.Equal(Jan.Count, bronze.Sum(b => b.Length));
    }

    [Fact]
    public async Task RawDoPut_Date64Int32VolumeAndNullAdjClose_AreAccepted()
    {
        var bars = Jan.Take(5).Select((b, i) => i == 2 ? b with { AdjClose = null } : b).ToList();
        var batch = Batch(bars,
            ("symbol", b => Strings(b.Select(x => x.Symbol))),
            ("date", b => new Date64Array.Builder().AppendRange(b.Select(x => x.Date.ToDateTime(TimeOnly.MinValue))).Build()),
            ("open", b => Doubles(b.Select(x => (double?)x.Open))),
            ("high", b => Doubles(b.Select(x => (double?)x.High))),
            ("low", b => Doubles(b.Select(x => (double?)x.Low))),
            ("close", b => Doubles(b.Select(x => (double?)x.Close))),
            ("adj_close", b => Doubles(b.Select(x => x.AdjClose))),
            ("volume", b => new Int32Array.Builder().AppendRange(b.Select(x => (int)x.Volume)).Build()));

        await Put("""{"source":"vendor_y","promote":true,"wait":true}""", batch);

        using var client = _server.Client();
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["IBM"])).ToListAsync();
        Assert.Equal(bars.Select(b => (b.Date, b.Close, b.AdjClose, b.Volume)), read.Select(b => (b.Date, b.Close, b.AdjClose, b.Volume)));
        Assert.Null(read[2].AdjClose);
    }

    [Fact]
    public async Task SdkUpload_WithoutPromote_LandsInBronzeOnly()
    {
        using var client = _server.Client();

        var reports = await client.UploadAsync(Jan, "vendor_z").DefaultTimeout();

        Assert.Equal("bronze", Assert.Single(reports).Layer);
        Assert.Empty(await client.ReadBarsAsync(TableQuery.Create(symbols: ["IBM"])).ToListAsync());
        var bronze = await client.GetPricesAsync(TableQuery.Create("bronze", symbols: ["IBM"])).ToListAsync();
        Assert.Equal(Jan.Count, bronze.Sum(b => b.Length));
        // Bronze's folder holds one file of the 2024 band for the source; silver has none.
        var file = Assert.Single(Directory.GetFiles(Path.Combine(_server.DataDir, "bronze", "prices_daily"), "2024-vendor_z-*.parquet"));
        Assert.Matches("^2024-vendor_z-[0-9a-f]{16}\\.parquet$", Path.GetFileName(file));
    }

    [Fact]
    public async Task SdkUpload_InvalidRow_IsRejectedWithReasonInTheSilverReport()
    {
        using var client = _server.Client();
        var bars = Jan.Take(3).ToList();
        bars[1] = bars[1] with { Low = bars[1].High + 1 };

        var reports = await client.UploadAsync(bars, "vendor_x", promote: true).DefaultTimeout();

        var silver = Assert.Single(reports, r => r.Layer == "silver");
        Assert.Equal((2L, 1L), (silver.Inserted, silver.Rejected));
        Assert.Contains("low", Assert.Single(silver.RejectReasons!), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> BadUploads => new()
    {
        { "missing", "missing column(s) 'close'" },
        { "extra", "unexpected column 'comment'" },
        { "wrong-type", "column 'volume' has type double; expected an integer type" },
        { "not-midnight", "column 'date' row 0: timestamp value" },
        { "other-timezone", "column 'date' has type timestamp[nanosecond, tz=America/New_York]" },
        { "null", "column 'close' row 1 is null" },
        { "over-cap", $"exceeds the cap of {Cap} rows" },
        { "bad-symbol", "symbol '../x' contains '/'" },
        { "duplicate", "duplicate key (IBM, 2024-01-01)" },
        { "no-source", "needs a source" },
        { "bad-command", "upload command is malformed JSON" },
    };

    [Theory]
    [MemberData(nameof(BadUploads))]
    public async Task BadUpload_IsInvalidArgumentNamingTheProblem_AndLakeByteForByteUnchanged(string kind, string expected)
    {
        var before = _server.Snapshot();
        var command = kind switch
        {
            "no-source" => """{"table":"prices_daily"}""",
            "bad-command" => """{"source":"vendor_x",""",
            _ => """{"source":"vendor_x","promote":true}""",
        };
        var bars = kind switch
        {
            "over-cap" => SyntheticBars.Generate(["IBM"], new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30)),
            "bad-symbol" => Jan.Select((b, i) => i == 3 ? b with { Symbol = "../x" } : b).ToList(),
            "duplicate" => [.. Jan, Jan[0]],
            _ => Jan,
        };
        Assert.True(kind != "over-cap" || bars.Count > Cap);
        var columns = new List<(string, Func<IReadOnlyList<PriceBar>, IArrowArray>)>
        {
            ("symbol", b => Strings(b.Select(x => x.Symbol))),
            ("date", kind switch
            {
                "not-midnight" => b => Timestamps(b, TimeUnit.Nanosecond, TimeSpan.FromHours(12)),
                "other-timezone" => b => new TimestampArray.Builder(TimeUnit.Nanosecond, "America/New_York")
                    .AppendRange(b.Select(x => new DateTimeOffset(x.Date.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero))).Build(),
                _ => b => new Date32Array.Builder().AppendRange(b.Select(x => x.Date)).Build(),
            }),
            ("open", b => Doubles(b.Select(x => (double?)x.Open))),
            ("high", b => Doubles(b.Select(x => (double?)x.High))),
            ("low", b => Doubles(b.Select(x => (double?)x.Low))),
            ("close", b => Doubles(b.Select((x, i) => kind == "null" && i == 1 ? null : (double?)x.Close))),
            ("volume", kind == "wrong-type" ? b => Doubles(b.Select(x => (double?)x.Volume)) : b => Longs(b.Select(x => x.Volume))),
        };
        if (kind == "missing")
        {
            columns.RemoveAll(c => c.Item1 == "close");
        }
        if (kind == "extra")
        {
            columns.Add(("comment", b => Strings(b.Select(_ => "hello"))));
        }
        // Two messages, so the cap is crossed by the second one.
        var half = bars.Count / 2;
        var batches = new[] { Batch(bars.Take(half).ToList(), [.. columns]), Batch(bars.Skip(half).ToList(), [.. columns]) };

        var ex = await Assert.ThrowsAsync<RpcException>(() => Put(command, batches));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(expected, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    private async Task<JsonDocument> PutRaw(string command, params RecordBatch[] batches)
    {
        using var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor(command), batches[0].Schema).DefaultTimeout();
        foreach (var b in batches)
        {
            await call.RequestStream.WriteAsync(b).DefaultTimeout();
        }
        await call.RequestStream.CompleteAsync().DefaultTimeout();
        Assert.True(await call.ResponseStream.MoveNext().DefaultTimeout());
        return JsonDocument.Parse(call.ResponseStream.Current.ApplicationMetadata.Memory);
    }

    private async Task<List<StorageReport>> Put(string command, params RecordBatch[] batches)
    {
        using var call = await _server.Raw.StartPut(FlightDescriptor.CreateCommandDescriptor(command), batches[0].Schema).DefaultTimeout();
        try
        {
            foreach (var b in batches)
            {
                await call.RequestStream.WriteAsync(b).DefaultTimeout();
            }
            await call.RequestStream.CompleteAsync().DefaultTimeout();
        }
        catch (Exception ex) when (ex is RpcException or InvalidOperationException)
        {
            // Refused before we finished writing: the response carries the status.
        }
        var reports = new List<StorageReport>();
        while (await call.ResponseStream.MoveNext().DefaultTimeout())
        {
            reports.AddRange(JsonSerializer.Deserialize<List<StorageReport>>(call.ResponseStream.Current.ApplicationMetadata.Span, StorageReport.JsonOptions)!);
        }
        return reports;
    }

    private static RecordBatch Batch(IReadOnlyList<PriceBar> bars, params (string Name, Func<IReadOnlyList<PriceBar>, IArrowArray> Make)[] columns)
    {
        var arrays = columns.Select(c => c.Make(bars)).ToList();
        var schema = new Schema.Builder();
        for (var i = 0; i < columns.Length; i++)
        {
            schema.Field(f => f.Name(columns[i].Name).DataType(arrays[i].Data.DataType).Nullable(true));
        }
        return new RecordBatch(schema.Build(), arrays, bars.Count);
    }

    private static StringArray Strings(IEnumerable<string> values) => new StringArray.Builder().AppendRange(values).Build();

    private static LargeStringArray Large(IEnumerable<string> values)
    {
        var b = new LargeStringArray.Builder();
        foreach (var v in values)
        {
            b.Append(v);
        }
        return b.Build();
    }

    private static DoubleArray Doubles(IEnumerable<double?> values)
    {
        var b = new DoubleArray.Builder();
        foreach (var v in values)
        {
            if (v is { } d)
            {
                b.Append(d);
            }
            else
            {
                b.AppendNull();
            }
        }
        return b.Build();
    }

    private static Int64Array Longs(IEnumerable<long> values) => new Int64Array.Builder().AppendRange(values).Build();

    private static TimestampArray Timestamps(IEnumerable<PriceBar> bars, TimeUnit unit, TimeSpan timeOfDay) =>
        new TimestampArray.Builder(unit).AppendRange(bars.Select(x => new DateTimeOffset(x.Date.ToDateTime(TimeOnly.MinValue) + timeOfDay, TimeSpan.Zero))).Build();
}
