using System.Text.Json;
using Apache.Arrow.Flight;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Storage;
using Microsoft.Extensions.DependencyInjection;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>
/// Start-up (docs/decisions.md D25): the server listens before the partition index is listed; calls that need
/// the index wait for it, so a server whose index walk is held answers exactly what a server started normally
/// answers, and health says "warming" meanwhile.
/// </summary>
public sealed class StartupTests : IAsyncLifetime
{
    private static readonly string[] Symbols = ["AAPL", "MSFT", "^GSPC"];
    private readonly string _dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
    private IReadOnlyList<PriceBar> _bars = [];

    public async Task InitializeAsync()
    {
        _bars = SyntheticBars.Generate(Symbols, new DateOnly(2023, 1, 1), new DateOnly(2024, 6, 30));
        var store = LakeStore.Open(_dir);
        await store.UpsertAsync(_bars).DefaultTimeout();
    }

    public Task DisposeAsync()
    {
        Directory.Delete(_dir, recursive: true);
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Start_WithIndexLoadHeld_AnswersOnlyOnceListedAndExactlyAsANormalStart()
    {
        Answers expected;
        await using (var normal = await TestServer.StartAsync(o => o.DataDir = _dir))
        {
            expected = await CollectAsync(normal);
        }

        var hold = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var server = await TestServer.StartAsync(o =>
        {
            o.DataDir = _dir;
            o.WarmCache = true;
        }, configureServices: s => s.Configure<StoreOptions>(o => o.BeforeIndexLoad = () => hold.Task));
        using var http = new HttpClient { BaseAddress = server.Server.HttpEndpoint };

        // Held: health answers at once and says what is loading; the calls that need the index wait.
        using (var health = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout()))
        {
            Assert.Equal("ok", health.RootElement.GetProperty("status").GetString());
            Assert.Equal("warming", health.RootElement.GetProperty("state").GetString());
            Assert.Equal(["index", "cache", "code"], health.RootElement.GetProperty("loading").EnumerateArray().Select(e => e.GetString()));
        }
        using (var action = await HealthActionAsync(server))
        {
            Assert.Equal(("ok", "warming"), (action.RootElement.GetProperty("status").GetString(), action.RootElement.GetProperty("state").GetString()));
        }
        var answers = CollectAsync(server);
        var newcomer = SyntheticBars.Generate(["NEWCO"], new DateOnly(2024, 1, 1), new DateOnly(2024, 3, 31));
        using var writer = server.Client();
        var write = writer.UploadAsync(newcomer, "vendor_n", promote: true);
        // The gate opens only once the five calls (DoGet, two GetFlightInfo, ListFlights, DoPut) are seen parked at it.
        await TestTimeouts.WaitUntilAsync(() => server.Server.Store.ReadyWaiters == 5, "the five calls wait at the ready gate");
        Assert.False(answers.IsCompleted, "an answer was computed while the index was still held");
        Assert.False(write.IsCompleted, "a write committed while the index was still held");
        Assert.False(server.Server.Store.IsReady);

        hold.SetResult();
        var actual = await answers.DefaultTimeout();
        var reports = await write.DefaultTimeout();

        // The reads ran against the whole index: what a normal start answers (NEWCO aside, which the
        // write may have added first).
        Assert.Equal(expected.Rows, actual.Rows);
        Assert.Equal(expected.Plan, actual.Plan);
        Assert.Equal(expected.Silver, actual.Silver.Where(l => !l.Contains("NEWCO", StringComparison.Ordinal)));
        Assert.Equal(expected.Datasets, actual.Datasets);
        // The write landed whole.
        Assert.Equal(newcomer.Count, reports.Where(r => r.Layer == "silver").Sum(r => r.Inserted));
        var landed = await writer.ReadBarsAsync(TableQuery.Create(symbols: ["NEWCO"])).ToListAsync();
        Assert.Equal(newcomer.Select(b => (b.Date, b.Close)), landed.Select(b => (b.Date, b.Close)));

        // Once listed and warmed: state ok, nothing loading, the totals of the whole lake.
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        JsonElement last;
        do
        {
            await Task.Delay(20);
            using var h = JsonDocument.Parse(await http.GetStringAsync(new Uri("/health", UriKind.Relative)).DefaultTimeout());
            last = h.RootElement.Clone();
        }
        while (last.GetProperty("state").GetString() != "ok" && DateTime.UtcNow < deadline);
        Assert.Equal("ok", last.GetProperty("state").GetString());
        Assert.False(last.TryGetProperty("loading", out _));
        var silver = last.GetProperty("datasets").EnumerateArray().First(d => d.GetProperty("layer").GetString() == "silver");
        Assert.Equal(Symbols.Length + 1, silver.GetProperty("symbols").GetInt32());
    }

    private sealed record Answers(List<PriceBar> Rows, List<string> Plan, List<string> Silver, List<string> Datasets);

    /// <summary>DoGet rows, GetFlightInfo endpoints and counts, ListFlights totals: AAPL/MSFT/^GSPC only, so a concurrent NEWCO write cannot change them.</summary>
    private static async Task<Answers> CollectAsync(TestServer server)
    {
        var ticket = """{"symbols":["AAPL","MSFT","^GSPC"],"date_from":"2023-03-15","date_to":"2024-05-20"}""";
        var rowsTask = Task.Run(async () =>
        {
            using var client = server.Client();
            return await client.ReadBarsAsync(TableQuery.Create(symbols: Symbols, dateFrom: "2023-03-15", dateTo: "2024-05-20")).ToListAsync();
        });
        var planTask = Task.Run(async () =>
        {
            var info = await server.Raw.GetInfo(FlightDescriptor.CreateCommandDescriptor(ticket)).ResponseAsync;
            return info.Endpoints.Select(e => e.Ticket.Ticket.ToStringUtf8()).Append($"total {info.TotalRecords}").ToList();
        });
        var silverTask = Task.Run(async () =>
        {
            var info = await server.Raw.GetInfo(FlightDescriptor.CreatePathDescriptor("silver", "prices_daily")).ResponseAsync;
            return info.Endpoints.Select(e => e.Ticket.Ticket.ToStringUtf8()).ToList();
        });
        var datasetsTask = Task.Run(async () =>
        {
            using var call = server.Raw.ListFlights();
            var list = new List<string>();
            while (await call.ResponseStream.MoveNext())
            {
                var info = call.ResponseStream.Current;
                var name = string.Join("/", info.Descriptor.Paths);
                // The concurrent write (DoPut with promote) may land first: it changes bronze and silver
                // prices_daily, and gold follows it. Corporate actions it cannot change; their totals must hold.
                list.Add(name == "silver/corporate_actions" ? $"{name} {info.TotalRecords}" : name);
            }
            return list;
        });
        return new Answers(await rowsTask, await planTask, await silverTask, await datasetsTask);
    }

    private static async Task<JsonDocument> HealthActionAsync(TestServer server)
    {
        using var call = server.Raw.DoAction(new FlightAction("health"));
        Assert.True(await call.ResponseStream.MoveNext().DefaultTimeout());
        return JsonDocument.Parse(call.ResponseStream.Current.Body.ToStringUtf8());
    }
}
