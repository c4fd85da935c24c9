using System.Text;
using Google.Protobuf;

namespace Lakehouse.Flight.Core.Tests;

public sealed class QueryCodecTests
{
    [Fact]
    public void ParseQuery_DesignDocJson_GivesValidatedQuery()
    {
        var json = """{"symbols": ["msft", "AAPL"], "date_from": "2024-01-01", "date_to": "2024-03-31", "columns": ["date", "close"]}""";

        var q = QueryCodec.ParseQuery(Encoding.UTF8.GetBytes(json));

        Assert.Equal(Layer.Silver, q.Layer);
        Assert.Equal("prices_daily", q.Table);
        Assert.Equal(["AAPL", "MSFT"], q.Symbols);
        Assert.Equal((new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31)), (q.DateFrom!.Value, q.DateTo!.Value));
        Assert.Equal(["date", "close"], q.Columns);
    }

    [Fact]
    public void ParseQuery_BinaryProtobuf_GivesSameQueryAsJson()
    {
        var msg = new Protocol.TableQuery { Layer = "bronze", DateFrom = "2024-02-01" };
        msg.Symbols.Add("^gspc");

        var q = QueryCodec.ParseQuery(msg.ToByteArray());

        Assert.Equal((Layer.Bronze, "^GSPC", new DateOnly(2024, 2, 1)), (q.Layer, q.Symbols.Single(), q.DateFrom!.Value));
        Assert.Null(q.DateTo);
    }

    [Fact]
    public void Encode_ThenParse_RoundTrips()
    {
        var q = TableQuery.Create("silver", null, ["AAPL"], "2024-01-01", "2024-01-31", ["close"], 10);

        var back = QueryCodec.ParseQuery(QueryCodec.Encode(q));

        Assert.Equal((q.Layer, q.Table, q.DateFrom, q.DateTo, q.Limit), (back.Layer, back.Table, back.DateFrom, back.DateTo, back.Limit));
        Assert.Equal(q.Symbols, back.Symbols);
        Assert.Equal(q.Columns, back.Columns);
    }

    [Theory]
    [InlineData("{\"symbols\": [\"AAPL\"", "malformed JSON")]
    [InlineData("{\"layer\": \"platinum\"}", "unknown layer 'platinum': use one of bronze, silver, gold")]
    [InlineData("{\"table\": \"../trades\"}", "table '../trades' is not a table name")]
    [InlineData("{\"symbols\": [\"\"]}", "symbol is empty")]
    [InlineData("{\"date_from\": \"2024-03-01\", \"date_to\": \"2024-01-01\"}", "date_from 2024-03-01 is after date_to 2024-01-01")]
    [InlineData("{\"date_from\": \"01/02/2024\"}", "date_from '01/02/2024' is not an ISO date")]
    [InlineData("{\"symbols\": [\"../x\"]}", "symbol '../x' contains '/'")]
    [InlineData("{\"symbol\": \"AAPL\"}", "symbol")]
    public void ParseQuery_BadInput_IsInvalidArgumentNamingTheProblem(string body, string fragment)
    {
        var ex = Assert.Throws<LakehouseException>(() => QueryCodec.ParseQuery(Encoding.UTF8.GetBytes(body)));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ParseQuery_GarbageBytes_IsInvalidArgument()
    {
        var ex = Assert.Throws<LakehouseException>(() => QueryCodec.ParseQuery([0xff, 0xff, 0xff, 0x01]));
        Assert.Contains("neither JSON nor a valid protobuf", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{\"compression\": \"zstd\"}", Apache.Arrow.Ipc.CompressionCodecType.Zstd)]
    [InlineData("{\"compression\": \"LZ4\"}", Apache.Arrow.Ipc.CompressionCodecType.Lz4Frame)]
    [InlineData("{\"compression\": \"lz4_frame\"}", Apache.Arrow.Ipc.CompressionCodecType.Lz4Frame)]
    [InlineData("{\"compression\": \"none\"}", null)]
    [InlineData("{\"symbols\": [\"AAPL\"]}", null)]
    public void ParseTicket_CompressionField_GivesTheCodec(string json, Apache.Arrow.Ipc.CompressionCodecType? expected)
    {
        var (query, compression) = QueryCodec.ParseTicket(Encoding.UTF8.GetBytes(json));

        Assert.Equal(expected, compression);
        Assert.Equal(Layer.Silver, query.Layer);
    }

    [Fact]
    public void EncodeWithCompression_ThenParseTicket_RoundTripsQueryAndCodec()
    {
        var q = TableQuery.Create("silver", null, ["AAPL", "MSFT"], "2024-01-01", null, ["date", "close"]);

        var (back, compression) = QueryCodec.ParseTicket(QueryCodec.Encode(q, Apache.Arrow.Ipc.CompressionCodecType.Zstd));

        Assert.Equal(Apache.Arrow.Ipc.CompressionCodecType.Zstd, compression);
        Assert.Equal(q.Symbols, back.Symbols);
        Assert.Equal(q.Columns, back.Columns);
        Assert.Equal(q.DateFrom, back.DateFrom);
        Assert.DoesNotContain("compression", Encoding.UTF8.GetString(QueryCodec.Encode(q)), StringComparison.Ordinal);
    }

    [Fact]
    public void ParseTicket_UnknownCompression_IsInvalidArgumentNamingTheChoices()
    {
        var ex = Assert.Throws<LakehouseException>(() => QueryCodec.ParseTicket("{\"compression\": \"gzip\"}"u8));

        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Equal("unknown compression 'gzip': use none, lz4 or zstd", ex.Message);
    }
}
