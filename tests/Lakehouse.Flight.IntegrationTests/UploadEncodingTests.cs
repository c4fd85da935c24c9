using Apache.Arrow;
using Apache.Arrow.Ipc;
using Apache.Arrow.Types;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// DoPut of what pyarrow sends beyond plain IPC: dictionary-encoded string columns (pandas categoricals),
/// with replaced and delta dictionaries across batches, and LZ4_FRAME / ZSTD bodies. Each lands as the same
/// rows sent plain would.
/// </summary>
public sealed class UploadEncodingTests : IAsyncLifetime
{
    private const string Command = """{"table":"prices_daily","source":"vendor_x","promote":true,"wait":true}""";
    private static readonly IReadOnlyList<PriceBar> Bars = SyntheticBars.Generate(["IBM", "MSFT", "AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));
    private TestServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = await TestServer.StartAsync();
        // Something on disk already, so "unchanged" after a refused upload means something.
        using var client = _server.Client();
        await client.UploadAsync(SyntheticBars.Generate(["KO"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31)), "seed", promote: true)
            .DefaultTimeout();
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task DictionaryEncodedUpload_WithReplacedAndDeltaDictionaries_LandsAsThePlainUploadWould()
    {
        var ibmMsft = Bars.Where(b => b.Symbol != "AAPL").ToList();
        var jan = ibmMsft.Where(b => b.Date.Month == 1).ToList();
        var feb = ibmMsft.Where(b => b.Date.Month >= 2).ToList();
        var aapl = Bars.Where(b => b.Symbol == "AAPL").ToList();
        // Batch 1: symbol dictionary [MSFT, IBM] (int8 indices). Batch 2, from another stream: the dictionary
        // replaced by [IBM, MSFT] (a non-delta dictionary batch mid-stream). Batch 3: a delta appends AAPL (index 2).
        var first = RawPut.Write([Encoded(jan, ["MSFT", "IBM"])]);
        var second = RawPut.Write([Encoded(feb, ["IBM", "MSFT"])]).Where(m => m.Kind != 1);
        var third = RawPut.Write([Encoded(aapl, ["IBM", "MSFT", "AAPL"])]).Where(m => m.Kind == 3);
        Assert.Equal([1, 2, 2, 3], first.Select(m => m.Kind));
        var messages = first.Concat(second).Append(RawPut.DeltaDictionary(0, "AAPL")).Concat(third).ToList();

        var reports = await RawPut.SendAsync(_server.Endpoint, Command, messages);

        var silver = reports.Where(r => r.Layer == "silver").OrderBy(r => r.Symbol, StringComparer.Ordinal).ToList();
        Assert.Equal(["AAPL", "IBM", "MSFT"], silver.Select(r => r.Symbol));
        Assert.All(silver, r => Assert.Equal(r.Rows, r.Inserted));
        Assert.Equal(Bars.Count, silver.Sum(r => r.Rows));
        await AssertStoredAsync(Bars);
        // The same rows sent plain change nothing.
        using var client = _server.Client();
        var again = await client.UploadAsync(Bars, "vendor_x", promote: true).DefaultTimeout();
        Assert.All(again.Where(r => r.Layer == "silver"), r => Assert.Equal((r.Rows, 0L, 0L), (r.Unchanged, r.Inserted, r.Updated)));
    }

    [Theory]
    [InlineData(CompressionCodecType.Lz4Frame, false)]
    [InlineData(CompressionCodecType.Zstd, false)]
    [InlineData(CompressionCodecType.Zstd, true)]
    public async Task CompressedUpload_LandsAndReadsBackEqual(CompressionCodecType codec, bool dictionaries)
    {
        var batches = Bars.Chunk(50).Select(c => dictionaries ? Encoded(c, ["AAPL", "IBM", "MSFT"]) : PriceBarBatches.ToBatch(c)).ToList();
        var messages = RawPut.Write(batches, codec);

        var reports = await RawPut.SendAsync(_server.Endpoint, Command, messages);

        Assert.Equal(Bars.Count, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        Assert.Equal(Bars.Count, reports.Where(r => r.Layer == "bronze").Sum(r => r.Rows));
        await AssertStoredAsync(Bars);
    }

    public static TheoryData<string, string> BadEncodings => new()
    {
        { "int64 dictionary symbol", "column 'symbol' has type dictionary<values=int64, indices=int8>; a dictionary-encoded 'symbol' needs utf8 or large_utf8 values" },
        { "dictionary close", "column 'close' has type dictionary<values=double, indices=int16>; expected float64: only string columns may be dictionary-encoded" },
        { "body shorter than declared", "its IPC header declares a body of" },
        { "index outside the dictionary", "column 'symbol' row 3: dictionary index 7 is outside its dictionary of 3 values" },
    };

    [Theory]
    [MemberData(nameof(BadEncodings))]
    public async Task BadEncodedUpload_IsInvalidArgumentNamingTheProblem_AndLakeUnchanged(string kind, string expected)
    {
        var before = _server.Snapshot();
        var bars = Bars.Take(10).ToList();
        var batch = Encoded(bars, ["AAPL", "IBM", "MSFT"]);
        batch = kind switch
        {
            "int64 dictionary symbol" => Replace(batch, "symbol", new DictionaryArray(new DictionaryType(Int8Type.Default, Int64Type.Default, false),
                new Int8Array.Builder().AppendRange(bars.Select(_ => (sbyte)0)).Build(), new Int64Array.Builder().Append(42).Build())),
            "dictionary close" => Replace(batch, "close", new DictionaryArray(new DictionaryType(Int16Type.Default, DoubleType.Default, false),
                new Int16Array.Builder().AppendRange(bars.Select((_, i) => (short)i)).Build(), new DoubleArray.Builder().AppendRange(bars.Select(b => b.Close)).Build())),
            "index outside the dictionary" => Replace(batch, "symbol", new DictionaryArray(new DictionaryType(Int8Type.Default, StringType.Default, false),
                new Int8Array.Builder().AppendRange(bars.Select((_, i) => (sbyte)(i == 3 ? 7 : 0))).Build(),
                new StringArray.Builder().Append("IBM").Append("MSFT").Append("AAPL").Build())),
            _ => batch,
        };
        var messages = RawPut.Write([batch]);
        if (kind == "body shorter than declared")
        {
            var last = messages[^1];
            messages[^1] = last with { Body = last.Body[..^8] };
        }

        var ex = await Assert.ThrowsAsync<RpcException>(() => RawPut.SendAsync(_server.Endpoint, Command, messages));

        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains(expected, ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    [Fact]
    public async Task AllNullColumn_OfArrowsNullType_LandsAsNulls_WhereTheColumnMayBeNull_AndIsRefusedWhereNot()
    {
        // pandas with a column of only None (adj_close unknown) sends it as Arrow's null type.
        var bars = Bars.Where(b => b.Symbol == "IBM").ToList();
        var plain = PriceBarBatches.ToBatch(bars);

        var reports = await RawPut.SendAsync(_server.Endpoint, Command, RawPut.Write([Replace(plain, "adj_close", new NullArray(bars.Count))]));

        Assert.Equal(bars.Count, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        await AssertStoredAsync([.. bars.Select(b => b with { AdjClose = null })]);

        var before = _server.Snapshot();
        var ex = await Assert.ThrowsAsync<RpcException>(() =>
            RawPut.SendAsync(_server.Endpoint, Command, RawPut.Write([Replace(plain, "close", new NullArray(bars.Count))])));
        Assert.Equal(StatusCode.InvalidArgument, ex.StatusCode);
        Assert.Contains("column 'close' has no values (Arrow null type: every value is null); it may not be null", ex.Status.Detail, StringComparison.Ordinal);
        Assert.Equal(before, _server.Snapshot());
    }

    /// <summary>Silver holds exactly <paramref name="expected"/> for its symbols, value for value.</summary>
    private async Task AssertStoredAsync(IReadOnlyList<PriceBar> expected)
    {
        using var client = _server.Client();
        var symbols = expected.Select(b => b.Symbol).Distinct().ToList();
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: symbols)).ToListAsync();
        Assert.Equal(
            expected.OrderBy(b => b.Symbol, StringComparer.Ordinal).ThenBy(b => b.Date).Select(b => (b.Symbol, b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)),
            read.Select(b => (b.Symbol, b.Date, b.Open, b.High, b.Low, b.Close, b.AdjClose, b.Volume)));
        Assert.All(read, b => Assert.Equal("vendor_x", b.Source));
    }

    /// <summary>The bars as a plain batch whose <c>symbol</c> (int8 indices into <paramref name="dictionary"/>) and <c>source</c> (int16) are dictionary-encoded.</summary>
    private static RecordBatch Encoded(IReadOnlyList<PriceBar> bars, string[] dictionary)
    {
        var plain = PriceBarBatches.ToBatch(bars);
        var symbols = new DictionaryArray(new DictionaryType(Int8Type.Default, StringType.Default, false),
            new Int8Array.Builder().AppendRange(bars.Select(b => (sbyte)System.Array.IndexOf(dictionary, b.Symbol))).Build(),
            new StringArray.Builder().AppendRange(dictionary).Build());
        var sources = new DictionaryArray(new DictionaryType(Int16Type.Default, StringType.Default, false),
            new Int16Array.Builder().AppendRange(bars.Select(_ => (short)0)).Build(), new StringArray.Builder().Append("vendor_x").Build());
        return Replace(Replace(plain, "symbol", symbols), "source", sources);
    }

    private static RecordBatch Replace(RecordBatch batch, string column, IArrowArray array)
    {
        var index = batch.Schema.GetFieldIndex(column);
        var fields = batch.Schema.FieldsList.Select((f, i) => i == index ? new Field(f.Name, array.Data.DataType, true) : f).ToList();
        var arrays = Enumerable.Range(0, batch.ColumnCount).Select(i => i == index ? array : batch.Column(i)).ToList();
        return new RecordBatch(new Schema(fields, null), arrays, batch.Length);
    }
}
