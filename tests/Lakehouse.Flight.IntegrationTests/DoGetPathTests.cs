using Apache.Arrow;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>DoGet has two implementations (the fast framed path and the stock Flight writer): both keep the contract.</summary>
public sealed class DoGetPathTests
{
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task DoGet_EitherPath_SameRowsErrorsAndEmptyStream(bool fast)
    {
        await using var server = await TestServer.StartAsync(o => o.FastDoGet = fast);
        var bars = SyntheticBars.Generate(["AAPL", "MSFT"], new DateOnly(2000, 1, 1), new DateOnly(2004, 12, 31));
        await server.Server.Store.UpsertAsync(bars).DefaultTimeout();

        var read = new List<(string, DateOnly, double, long)>();
        using (var call = server.Raw.GetStream(new FlightTicket("""{"symbols":["MSFT","AAPL"],"columns":["symbol","date","close","volume"]}""")))
        {
            while (await call.ResponseStream.MoveNext().DefaultTimeout())
            {
                var b = call.ResponseStream.Current;
                Assert.InRange(b.Length, 1, Server.Internal.DoGetStreamer.RowsPerMessage(b.Schema, 1 << 20));
                for (var i = 0; i < b.Length; i++)
                {
                    read.Add((((StringArray)b.Column(0)).GetString(i), ((Date32Array)b.Column(1)).GetDateOnly(i)!.Value,
                        ((DoubleArray)b.Column(2)).GetValue(i)!.Value, ((Int64Array)b.Column(3)).GetValue(i)!.Value));
                }
            }
        }
        var bad = await Assert.ThrowsAsync<RpcException>(async () =>
        {
            using var call = server.Raw.GetStream(new FlightTicket("""{"symbols":["é/../x"]}"""));
            await call.ResponseStream.MoveNext().DefaultTimeout();
        });
        using var empty = server.Raw.GetStream(new FlightTicket("""{"symbols":["NONE"],"columns":["close"]}"""));
        var emptySchema = await empty.ResponseStream.Schema.AsTask().DefaultTimeout();
        var anyRow = await empty.ResponseStream.MoveNext().DefaultTimeout();

        Assert.Equal(bars.Select(b => (b.Symbol, b.Date, b.Close, b.Volume)), read);
        Assert.Equal(StatusCode.InvalidArgument, bad.StatusCode);
        Assert.Equal("symbol 'é/../x' contains 'é'; allowed are letters, digits and . - ^ =", bad.Status.Detail);
        Assert.Equal("close", Assert.Single(emptySchema.FieldsList).Name);
        Assert.False(anyRow);
        Assert.Equal(fast ? 3 : 0, server.Server.Metrics.FastStreams);
    }
}
