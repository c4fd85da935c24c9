using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Lakehouse.Flight.Protocol.Sql;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>SQL's server-wide limits: queries running at once, prepared statements open at once.</summary>
public sealed class FlightSqlLimitsTests : IAsyncLifetime
{
    private TestServer _server = null!;

    public async Task InitializeAsync() => _server = await TestServer.StartAsync(o =>
    {
        o.Sql.MaxConcurrentQueries = 1;
        o.Sql.QueueSeconds = 0;
        o.Sql.MaxPreparedStatements = 2;
    });

    public async Task DisposeAsync() => await _server.DisposeAsync();

    [Fact]
    public async Task QueryBeyondTheRunningLimit_IsResourceExhaustedNamingTheSetting_AndRunsOnceTheSlotIsFree()
    {
        var sql = new FlightSqlCalls(_server.Raw);
        var info = await sql.InfoAsync(new CommandStatementQuery { Query = "SELECT count(*) AS n FROM range(100000000000000) a, range(10) b" });
        RpcException? refused = null;
        using var deadline = new CancellationTokenSource(TestTimeouts.Default);
        while (refused is null && !deadline.IsCancellationRequested)
        {
            using var longCall = _server.Raw.GetStream(info.Endpoints.Single().Ticket);
            var read = longCall.ResponseStream.MoveNext();
            // Until the long query holds the one slot, a short one still gets it.
            while (refused is null && !deadline.IsCancellationRequested && !read.IsCompleted)
            {
                try
                {
                    await sql.SqlAsync("SELECT 1 AS one");
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted)
                {
                    refused = ex;
                }
            }
            if (refused is null)
            {
                // The long query was refused itself (a short one held the slot when it came): start it again.
                var missed = await Assert.ThrowsAsync<RpcException>(() => read);
                Assert.Equal(StatusCode.ResourceExhausted, missed.StatusCode);
            }
        }
        Assert.NotNull(refused);
        Assert.Contains("Lakehouse:Sql:MaxConcurrentQueries", refused.Status.Detail, StringComparison.Ordinal);

        // The long query's call is gone: its slot comes back once the engine stops.
        using var again = new CancellationTokenSource(TestTimeouts.Default);
        while (true)
        {
            try
            {
                var (_, _, batches) = await sql.SqlAsync("SELECT 1 AS one");
                Assert.Equal(1, Assert.Single(batches).Length);
                break;
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.ResourceExhausted && !again.IsCancellationRequested)
            {
                await Task.Delay(50, again.Token);
            }
        }
    }

    [Fact]
    public async Task PreparedStatementsBeyondTheLimit_AreResourceExhausted_UntilOneIsClosed()
    {
        var sql = new FlightSqlCalls(_server.Raw);
        var first = await sql.PrepareAsync("SELECT 1 AS one");
        await sql.PrepareAsync("SELECT 2 AS two");

        var ex = await Assert.ThrowsAsync<RpcException>(() => sql.PrepareAsync("SELECT 3 AS three"));
        Assert.Equal(StatusCode.ResourceExhausted, ex.StatusCode);
        Assert.Contains("Lakehouse:Sql:MaxPreparedStatements", ex.Status.Detail, StringComparison.Ordinal);

        await sql.ActionAsync("ClosePreparedStatement",
            Any.Pack(new ActionClosePreparedStatementRequest { PreparedStatementHandle = first.PreparedStatementHandle }).ToByteString());
        Assert.False((await sql.PrepareAsync("SELECT 3 AS three")).PreparedStatementHandle.IsEmpty);
    }
}
