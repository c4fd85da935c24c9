using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion;
using Lakehouse.Flight.Ingestion.Flow;
using Lakehouse.Flight.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Lakehouse.Flight.IntegrationTests;

/// <summary>The daily-flow scheduler on a <see cref="FakeTimeProvider"/>: a real server, the job service, the flow and its log.</summary>
public sealed class FlowSchedulerTests : IAsyncLifetime
{
    /// <summary>Friday 9 January 2026, noon UTC (New York is on EST, UTC-5).</summary>
    private static readonly DateTimeOffset FridayNoon = new(2026, 1, 9, 12, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(FridayNoon);
    private readonly GatedPriceSource _source = new(open: true, "BAD");
    private readonly List<IReadOnlyList<string>> _goldCalls = [];
    private TestServer _server = null!;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }
    }

    private DailyFlowScheduler Scheduler => _server.Server.Services.GetRequiredService<DailyFlowScheduler>();

    private JobService Jobs => _server.Server.Services.GetRequiredService<JobService>();

    private async Task StartAsync(string cron, string zone, params string[] watchlist)
    {
        _server = await TestServer.StartAsync(o =>
        {
            o.Flow.Enabled = true;
            o.Flow.Cron = cron;
            o.Flow.TimeZone = zone;
            o.Flow.Watchlist = [.. watchlist];
            o.Flow.Source = GatedPriceSource.SourceName;
            o.Flow.LookbackDays = 3;
        }, configureServices: s =>
        {
            s.AddSingleton<IPriceSource>(_source);
            s.AddSingleton<TimeProvider>(_time);
            s.AddFlowStep("gold", (_, step, _) =>
            {
                lock (_goldCalls)
                {
                    _goldCalls.Add(step.Symbols);
                }
                return Task.FromResult(new FlowStepResult(step.Symbols.Count));
            });
        });
    }

    /// <summary>The scheduler's next run once it waits for one later than <paramref name="after"/>.</summary>
    private async Task<DateTimeOffset> NextRunAfterAsync(DateTimeOffset after)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (DateTime.UtcNow < deadline)
        {
            if (Scheduler.NextRunUtc is { } next && next > after)
            {
                return next;
            }
            await Task.Delay(10);
        }
        throw new TimeoutException("the scheduler never waited for a next run");
    }

    private async Task<JobStatus[]> FinishedFlowJobsAsync(int count)
    {
        var deadline = DateTime.UtcNow + TestTimeouts.Default;
        while (true)
        {
            var flows = Jobs.List(100).Where(j => j.Kind == JobRecord.FlowKind && JobStates.IsFinished(j.State)).OrderBy(j => j.Id, StringComparer.Ordinal).ToArray();
            if (flows.Length >= count || DateTime.UtcNow > deadline)
            {
                return flows;
            }
            await Task.Delay(10);
        }
    }

    private List<JsonElement> FlowLog()
    {
        var path = Path.Combine(_server.DataDir, "_metadata", "flows", "daily.jsonl");
        return File.ReadLines(path).Select(l => JsonDocument.Parse(l).RootElement.Clone()).ToList();
    }

    [Fact]
    public async Task Scheduler_NewYorkWeekdayCron_FiresAt0330UtcInWinterAndSkipsTheWeekend()
    {
        await StartAsync("30 22 * * 1-5", "America/New_York", "AAPL");

        var first = await NextRunAfterAsync(_time.GetUtcNow());
        Assert.Equal(new DateTimeOffset(2026, 1, 10, 3, 30, 0, TimeSpan.Zero), first);
        _time.Advance(first - _time.GetUtcNow());
        var jobs = await FinishedFlowJobsAsync(1);
        var second = await NextRunAfterAsync(first);
        // Across the weekend: the fake clock runs on to the next fire; Saturday and Sunday evenings have none to run.
        _time.Advance(second - _time.GetUtcNow());
        var afterWeekend = await FinishedFlowJobsAsync(2);

        var job = Assert.Single(jobs);
        Assert.Equal(("succeeded", "2026-01-09"), (job.State, job.FlowDate));
        Assert.Equal(new DateTimeOffset(2026, 1, 13, 3, 30, 0, TimeSpan.Zero), second);
        // The weekend's dates never ran: the job after Friday's is Monday's.
        Assert.Equal(["2026-01-09", "2026-01-12"], afterWeekend.Select(j => j.FlowDate));
        var silver = job.Reports!.Where(r => r.Layer == "silver" && r.Table == "prices_daily").ToArray();
        Assert.Equal(("AAPL", "2026-01-06", "2026-01-09"), (Assert.Single(silver).Symbol, silver[0].DateFrom, silver[0].DateTo));
    }

    [Fact]
    public async Task Scheduler_OneSymbolFails_TheOthersAreIngestedGoldRunsForThemAndTheLogSaysSo()
    {
        await StartAsync("30 22 * * 1-5", "UTC", "AAPL", "BAD", "MSFT");

        var fire = await NextRunAfterAsync(_time.GetUtcNow());
        _time.Advance(fire - _time.GetUtcNow());
        var job = Assert.Single(await FinishedFlowJobsAsync(1));

        Assert.Equal(new DateTimeOffset(2026, 1, 9, 22, 30, 0, TimeSpan.Zero), fire);
        Assert.Equal("succeeded", job.State);
        Assert.Equal("BAD", Assert.Single(job.Failed!).Symbol);
        Assert.Equal(4, _server.Server.Store.Read(TableQuery.Create(symbols: ["AAPL"])).Sum(b => b.Length));
        Assert.Equal(4, _server.Server.Store.Read(TableQuery.Create(symbols: ["MSFT"])).Sum(b => b.Length));
        Assert.Equal(0, _server.Server.Store.Read(TableQuery.Create(symbols: ["BAD"])).Sum(b => b.Length));
        Assert.Equal(["AAPL", "MSFT"], Assert.Single(_goldCalls));
        var log = FlowLog();
        Assert.Equal(["ingest", "gold", "done"], log.Select(l => l.GetProperty("step").GetString()));
        Assert.All(log, l => Assert.Equal("2026-01-09", l.GetProperty("date").GetString()));
        Assert.Equal(8, log[0].GetProperty("rows").GetInt64());
        Assert.Equal("BAD", log[0].GetProperty("failures").EnumerateArray().Single().GetProperty("symbol").GetString());
        Assert.Equal(2, log[1].GetProperty("rows").GetInt64());
    }

    [Fact]
    public async Task Scheduler_TwoFiresOnOneDay_TheCompletedDayIsNotRepeated()
    {
        await StartAsync("0,30 22 * * 1-5", "UTC", "AAPL");

        var first = await NextRunAfterAsync(_time.GetUtcNow());
        _time.Advance(first - _time.GetUtcNow());
        await FinishedFlowJobsAsync(1);
        var second = await NextRunAfterAsync(first);
        _time.Advance(second - _time.GetUtcNow());
        var jobs = await FinishedFlowJobsAsync(2);

        Assert.Equal((22, 0, 22, 30), (first.Hour, first.Minute, second.Hour, second.Minute));
        Assert.Equal(2, jobs.Length);
        Assert.All(jobs, j => Assert.Equal(("succeeded", "2026-01-09"), (j.State, j.FlowDate)));
        Assert.Null(jobs[0].Note);
        Assert.Equal("nothing to do: the daily flow for 2026-01-09 already completed (see _metadata/flows/daily.jsonl)", jobs[1].Note);
        Assert.Equal(1, _source.Started.Count(s => s == "AAPL"));
        Assert.Single(_goldCalls);
        Assert.Equal(["ingest", "gold", "done"], FlowLog().Select(l => l.GetProperty("step").GetString()));
    }
}
