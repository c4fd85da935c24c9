using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Ingestion.Flow;

/// <summary>
/// The daily refresh for one date D: fetch [D - lookback, D] for every watchlist symbol and upsert it
/// (bronze, then silver, through the <see cref="IngestionRunner"/>), then run each <see cref="IFlowStep"/>
/// (the gold rebuild) over the symbols that committed. One line per step goes to
/// <c>_metadata/flows/daily.jsonl</c>; a symbol that fails is listed and the others go on; a day that
/// completed without failures is not run again; a holiday is an empty fetch and writes nothing.
/// </summary>
public sealed class DailyFlow(IngestionRunner runner, LakeStore store, DailyFlowOptions options, IEnumerable<IFlowStep> steps, TimeProvider? time = null)
{
    private static readonly JsonSerializerOptions Json = new(StorageReport.JsonOptions) { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower };

    private readonly IngestionRunner _runner = runner;
    private readonly LakeStore _store = store;
    private readonly DailyFlowOptions _options = options;
    private readonly IReadOnlyList<IFlowStep> _steps = WithoutReplacedGold(steps.ToArray());
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly Lock _logGate = new();

    /// <summary>The steps, where a step registered under the built-in gold step's name replaces it.</summary>
    private static IFlowStep[] WithoutReplacedGold(IFlowStep[] all) =>
        all.Where(s => s is not GoldFlowStep || !all.Any(o => o is not GoldFlowStep && o.Name == s.Name)).ToArray();

    /// <summary>The flow's log: one JSON line per step of every run.</summary>
    public string LogPath => Path.Combine(_store.Paths.MetadataDir, "flows", "daily.jsonl");

    /// <summary>The watchlist the flow refreshes.</summary>
    public IReadOnlyList<string> Symbols => _options.Symbols();

    /// <summary>Names of the steps after ingestion, in the order they run.</summary>
    public IReadOnlyList<string> StepNames => _steps.Select(s => s.Name).ToArray();

    /// <summary>The date in the flow's time zone at <paramref name="instant"/> (what <c>--run-once</c> without <c>--date</c> refreshes).</summary>
    public DateOnly DateAt(DateTimeOffset instant) => DateOnly.FromDateTime(TimeZoneInfo.ConvertTime(instant, _options.Zone()).DateTime);

    /// <summary>True when a run for <paramref name="date"/> finished with no failures.</summary>
    public bool IsCompleted(DateOnly date)
    {
        var day = Day(date);
        return ReadLog().Any(l => l.Step == FlowLogLine.DoneStep && l.Date == day && l.Failures.Count == 0 && l.Error is null);
    }

    /// <summary>The lines of the flow's log, oldest first (a line torn by a crash is skipped).</summary>
    public IReadOnlyList<FlowLogLine> ReadLog()
    {
        if (!File.Exists(LogPath))
        {
            return [];
        }
        var lines = new List<FlowLogLine>();
        foreach (var text in File.ReadLines(LogPath))
        {
            try
            {
                if (JsonSerializer.Deserialize<FlowLogLine>(text, Json) is { } line)
                {
                    lines.Add(line);
                }
            }
            catch (JsonException)
            {
            }
        }
        return lines;
    }

    /// <summary>
    /// Runs the flow for <paramref name="date"/> unless it already completed (<paramref name="force"/> runs it anyway).
    /// Cancellation stops it between commits; what committed stays, and no <c>done</c> line is written.
    /// </summary>
    public async Task<FlowRun> RunAsync(DateOnly date, bool force = false, CancellationToken cancellationToken = default)
    {
        if (!force && IsCompleted(date))
        {
            return new FlowRun(date, true, [], [], []);
        }
        var symbols = Symbols;
        if (symbols.Count == 0)
        {
            throw LakehouseException.Invalid("the daily flow has no symbols: set Lakehouse:Flow:Watchlist (e.g. AAPL,MSFT)");
        }
        var total = Stopwatch.StartNew();
        var runId = LakeStore.NewRunId();
        var from = date.AddDays(-_options.LookbackDays);
        var lines = new List<FlowLogLine>();
        var failures = new List<FailedSymbol>();

        var sw = Stopwatch.StartNew();
        IngestResult ingest;
        try
        {
            ingest = await _runner.RunAsync(new IngestRequest(_options.Source, symbols, from, date), cancellationToken: cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The run as a whole could not start (unknown source, bad range): say so in the log, then fail the flow.
            var error = ex is LakehouseException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
            lines.Add(Append(new FlowLogLine { RunId = runId, Date = Day(date), Step = FlowLogLine.IngestStep, Symbols = symbols, DurationMs = sw.ElapsedMilliseconds, Error = error }));
            Append(new FlowLogLine { RunId = runId, Date = Day(date), Step = FlowLogLine.DoneStep, Symbols = symbols, DurationMs = total.ElapsedMilliseconds, Error = error });
            throw;
        }
        var silver = ingest.Reports.Where(r => r.Layer == Layers.Name(Layer.Silver) && r.Table == PriceTables.PricesDaily).ToArray();
        var silverRows = silver.Sum(r => r.Rows);
        failures.AddRange(ingest.Failures);
        lines.Add(Append(new FlowLogLine
        {
            RunId = runId, Date = Day(date), Step = FlowLogLine.IngestStep, Symbols = symbols, Rows = silverRows, Failures = ingest.Failures,
            DurationMs = sw.ElapsedMilliseconds,
        }));

        // Steps see the symbols that committed; a symbol that failed to fetch keeps its previous gold.
        var failed = ingest.Failures.Select(f => f.Symbol).ToHashSet(StringComparer.Ordinal);
        var committed = symbols.Where(s => !failed.Contains(s)).ToArray();
        string? stepErrors = null;
        foreach (var step in _steps)
        {
            cancellationToken.ThrowIfCancellationRequested();
            sw.Restart();
            FlowLogLine line;
            try
            {
                var result = await step.RunAsync(new FlowStepContext(date, committed, from), cancellationToken).ConfigureAwait(false);
                failures.AddRange(result.Failures ?? []);
                line = new FlowLogLine
                {
                    RunId = runId, Date = Day(date), Step = step.Name, Symbols = committed, Rows = result.Rows, Failures = result.Failures ?? [],
                    DurationMs = sw.ElapsedMilliseconds,
                };
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // A step's failure is recorded and the later steps still run: each works from silver, not from the step before.
                var error = ex is LakehouseException ? ex.Message : $"{ex.GetType().Name}: {ex.Message}";
                stepErrors = stepErrors is null ? $"{step.Name}: {error}" : $"{stepErrors}; {step.Name}: {error}";
                line = new FlowLogLine { RunId = runId, Date = Day(date), Step = step.Name, Symbols = committed, DurationMs = sw.ElapsedMilliseconds, Error = error };
            }
            lines.Add(Append(line));
        }
        lines.Add(Append(new FlowLogLine
        {
            RunId = runId, Date = Day(date), Step = FlowLogLine.DoneStep, Symbols = symbols, Rows = silverRows, Failures = failures,
            DurationMs = total.ElapsedMilliseconds, Error = stepErrors,
        }));
        return new FlowRun(date, false, lines, ingest.Reports, failures);
    }

    private FlowLogLine Append(FlowLogLine line)
    {
        line = line with { Ts = _time.GetUtcNow() };
        var bytes = Encoding.UTF8.GetBytes(JsonSerializer.Serialize(line, Json) + "\n");
        lock (_logGate)
        {
            Directory.CreateDirectory(Path.GetDirectoryName(LogPath)!);
            // One write per line in append mode: concurrent writers (the CLI beside the server) never interleave within a line.
            using var fs = new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
            fs.Write(bytes);
            fs.Flush(flushToDisk: true);
        }
        return line;
    }

    private static string Day(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
