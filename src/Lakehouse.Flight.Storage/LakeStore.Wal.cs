using System.Collections.Concurrent;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>What an upload acknowledged before it was applied gets back: it is durable, and applied later under <paramref name="RunId"/>.</summary>
/// <param name="RunId">The run it is applied under.</param>
/// <param name="Rows">Rows received.</param>
/// <param name="Symbols">Distinct symbols among them.</param>
/// <param name="Tables">The tables it goes to (<c>layer/table</c>, with <c>/source=</c> for per-source tables).</param>
/// <param name="Visible">Reads of silver include its rows already (the queryable buffer held them); false: once applied.</param>
public sealed record UploadReceipt(string RunId, long Rows, int Symbols, IReadOnlyList<string> Tables, bool Visible = false);

/// <summary>Where an acknowledged upload stands: <c>pending</c>, <c>applying</c>, <c>applied</c> or <c>failed</c>.</summary>
/// <param name="RunId">The run the upload is applied under (its manifest lines carry it).</param>
/// <param name="State">pending | applying | applied | failed.</param>
/// <param name="Rows">Rows of the upload.</param>
/// <param name="Reports">The StorageReports committed so far (all of them once applied).</param>
/// <param name="Error">Why the last attempt failed (a full disk is retried; a refused upload is final).</param>
public sealed record UploadStatus(string RunId, string State, long Rows, IReadOnlyList<StorageReport> Reports, string? Error);

public sealed partial class LakeStore
{
    /// <summary>
    /// WAL entries some store of this process wrote and has not applied yet: never adopted by another
    /// store of the process (a second store on the same lake, as tests open, sees them as live).
    /// </summary>
    private static readonly ConcurrentDictionary<string, byte> OwnedEntries = new(StringComparer.Ordinal);

    private readonly WriteAheadLog _wal;
    private readonly List<(WalEntry Entry, WalHeader Header)> _walQueue = [];
    private readonly ConcurrentDictionary<string, UploadRun> _runs = new(StringComparer.Ordinal);
    private readonly SemaphoreSlim _applyGate = new(1, 1);

    /// <summary>Commits of one upload in flight at once (disjoint symbols): two overlap CPU work with disk waits on 2 cores.</summary>
    internal const int UploadApplyParallelism = 2;
    private readonly SemaphoreSlim _walSignal = new(0);
    private readonly AsyncLocal<bool> _inApplier = new();
    private readonly List<Func<IReadOnlyList<StorageReport>, CancellationToken, Task>> _appliedHandlers = [];

    /// <summary>Background appliers running in this store (<see cref="RunUploadApplierAsync"/>).</summary>
    private int _appliers;

    /// <summary>Set when the log may hold entries of a dead process (at open, and by the applier's rescans).</summary>
    private volatile bool _walScanNeeded;

    /// <summary>Upload statuses held in memory (tests: applied ones beyond <see cref="AppliedRunsKept"/> leave).</summary>
    internal int RunsInMemory => _runs.Count;

    /// <summary>Uploads acknowledged and not yet applied (this process's and adoptable ones last seen).</summary>
    public int PendingUploads
    {
        get
        {
            lock (_walQueue)
            {
                return _walQueue.Count;
            }
        }
    }

    /// <summary>
    /// Runs <paramref name="handler"/> once a background-applied upload is applied, with all its reports
    /// (the server rebuilds gold there). A failing handler is logged; the upload stays applied.
    /// </summary>
    public void OnUploadApplied(Func<IReadOnlyList<StorageReport>, CancellationToken, Task> handler)
    {
        lock (_appliedHandlers)
        {
            _appliedHandlers.Add(handler);
        }
    }

    /// <summary>
    /// Acknowledges a write once it is durable, before it touches a partition: the rows are checked as
    /// <see cref="WriteAsync"/> checks them (a bad symbol, a null or duplicate key refuses the whole write
    /// here, never later), appended to the write-ahead log in one sequential write with one fsync, and
    /// applied by <see cref="ApplyUploadsAsync"/> (the server's background applier, or the next write of
    /// any process that opens the lake after this one died). Every write shares one set of rows.
    /// </summary>
    /// <exception cref="LakehouseException">Rows that do not fit a table, or writes that do not share their rows.</exception>
    public async Task<UploadReceipt> EnqueueAsync(IReadOnlyList<TableWrite> writes, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(writes);
        if (writes.Count == 0)
        {
            throw LakehouseException.Invalid("an upload needs at least one table to write");
        }
        var rows = writes[0].Rows;
        if (writes.Any(w => !ReferenceEquals(w.Rows, rows) || w.Rejected is not null))
        {
            throw LakehouseException.Invalid("the writes of one acknowledged upload share their rows and carry no rejected rows");
        }
        using var upload = BeginUpload(writes.Select(w => (w.Table, w.Source)).ToArray());
        upload.Add(rows);
        return await upload.CommitAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Starts an upload acknowledged once durable (see <see cref="EnqueueAsync"/>) whose rows stream in:
    /// each batch is checked and appended to the log as it comes, so the acknowledgement follows the last
    /// byte by one fsync. Disposing it without <see cref="UploadLogWriter.CommitAsync"/> leaves no trace.
    /// </summary>
    /// <param name="targets">The tables every row goes to, with the source of per-source tables.</param>
    public UploadLogWriter BeginUpload(IReadOnlyList<(TableDefinition Table, string? Source)> targets)
    {
        ArgumentNullException.ThrowIfNull(targets);
        if (targets.Count == 0)
        {
            throw LakehouseException.Invalid("an upload needs at least one table to write");
        }
        var resolved = targets.Select(t => (t.Table, Resolve(t.Table, t.Source))).ToArray();
        var runId = NewRunId();
        var header = new WalHeader(runId,
            [.. resolved.Select(r => new WalTarget(Layers.Name(r.Item2.Table.Layer), r.Item2.Table.Table, r.Item2.Source))])
        {
            Ts = TruncateToMicros(DateTimeOffset.UtcNow),
        };
        var path = _wal.NewPath(runId);
        OwnedEntries[path] = 0;
        return new UploadLogWriter(this, _wal.Begin(path, header), header, resolved.Select(r => (r.Table, r.Item2.Source)).ToArray());
    }

    /// <summary>Called by <see cref="UploadLogWriter"/> once its entry is durable: the applier takes it from here.</summary>
    internal UploadReceipt QueueDurableUpload(WalEntry entry, WalHeader header, long rows, int symbols, IReadOnlyList<RecordBatch>? kept, SymbolRuns? runs,
        long bytes)
    {
        // Applied in the order of acknowledgement (an upload begun earlier but acknowledged later lands later),
        // the order reads merge the buffer in: the entry is queued under its acknowledgement time.
        entry = entry with { Ticks = WriteAheadLog.NextTicks() };
        // In the buffer before the applier can take it: the applier's removal always follows the add.
        var visible = HoldForReads(header, entry.Ticks, kept, runs, bytes);
        _runs[header.RunId] = new UploadRun(rows);
        Interlocked.Increment(ref _unsettled);
        lock (_walQueue)
        {
            _walQueue.Add((entry, header));
        }
        _walSignal.Release();
        StorageLog.UploadLogged(_logger, header.RunId, rows);
        return new UploadReceipt(header.RunId, rows, symbols, header.Targets.Select(t =>
            Catalog.Get(Layers.Parse(t.Layer), t.Table).PerSource ? $"{t.Layer}/{t.Table}/source={t.Source}" : $"{t.Layer}/{t.Table}").ToArray(), visible);
    }

    internal static void ReleaseOwnedEntry(string path) => OwnedEntries.TryRemove(path, out _);

    /// <summary>
    /// Applies every acknowledged upload this process may apply (its own, and those of processes that
    /// died), oldest first, each in commits of whole symbols (<see cref="StoreOptions.UploadApplyChunkRows"/>
    /// rows): readers see each commit whole. A re-run after a crash skips the symbols whose commit is in
    /// the manifests, so every upload is applied exactly once. Returns how many uploads it applied.
    /// </summary>
    public async Task<int> ApplyUploadsAsync(CancellationToken cancellationToken = default)
    {
        await _applyGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        var wasApplying = _inApplier.Value;
        _inApplier.Value = true;
        try
        {
            var applied = 0;
            while (NextUpload() is { } next)
            {
                cancellationToken.ThrowIfCancellationRequested();
                await ApplyUploadAsync(next.Entry, next.Header, next.Adopted, cancellationToken).ConfigureAwait(false);
                applied++;
            }
            return applied;
        }
        finally
        {
            _inApplier.Value = wasApplying;
            _applyGate.Release();
        }
    }

    /// <summary>
    /// The background applier: applies uploads as they are acknowledged, retries after failures (a full
    /// disk) with back-off, and looks for uploads of dead processes every <paramref name="rescan"/>.
    /// Runs until <paramref name="stoppingToken"/> fires; stops between commits.
    /// </summary>
    public async Task RunUploadApplierAsync(TimeSpan rescan, CancellationToken stoppingToken)
    {
        Interlocked.Increment(ref _appliers);
        try
        {
            await ApplierLoopAsync(rescan, stoppingToken).ConfigureAwait(false);
        }
        finally
        {
            Interlocked.Decrement(ref _appliers);
        }
    }

    private async Task ApplierLoopAsync(TimeSpan rescan, CancellationToken stoppingToken)
    {
        var backoff = TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await ApplyUploadsAsync(stoppingToken).ConfigureAwait(false);
                backoff = TimeSpan.Zero;
                if (!await _walSignal.WaitAsync(rescan, stoppingToken).ConfigureAwait(false))
                {
                    _walScanNeeded = true;
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                backoff = backoff == TimeSpan.Zero ? TimeSpan.FromSeconds(1) : TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, TimeSpan.FromSeconds(30).Ticks));
                StorageLog.UploadApplyFailed(_logger, ex.Message, (long)backoff.TotalMilliseconds);
                try
                {
                    await Task.Delay(backoff, stoppingToken).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
            }
        }
    }

    /// <summary>Where an acknowledged upload stands (from memory, the log, or the manifests after a restart); null when the run is unknown.</summary>
    public UploadStatus? UploadStatusOf(string runId)
    {
        if (_runs.TryGetValue(runId, out var run))
        {
            lock (run)
            {
                return new UploadStatus(runId, run.State, run.Rows, ByLayer(run.Reports), run.Error);
            }
        }
        if (_wal.List().FirstOrDefault(e => e.RunId == runId) is { } entry)
        {
            return new UploadStatus(runId, "pending", 0, ByLayer(CommittedReports(runId, null)), null);
        }
        var reports = ByLayer(CommittedReports(runId, null));
        return reports.Count == 0 ? null
            : new UploadStatus(runId, "applied", reports.GroupBy(r => (r.Layer, r.Table)).Max(g => g.Sum(r => r.Rows)), reports, null);
    }

    /// <summary>Reports bronze first, then silver, then gold, each layer in commit order: the same whether from memory or the manifests.</summary>
    private static List<StorageReport> ByLayer(IEnumerable<StorageReport> reports) =>
        [.. reports.OrderBy(r => r.Layer switch { "bronze" => 0, "silver" => 1, _ => 2 })];

    /// <summary>Waits until the upload is applied (or failed for good) and returns its status.</summary>
    /// <exception cref="LakehouseException">NotFound when the run is not an upload this lake knows.</exception>
    public async Task<UploadStatus> WaitForUploadAsync(string runId, CancellationToken cancellationToken = default)
    {
        if (_runs.TryGetValue(runId, out var run))
        {
            if (Volatile.Read(ref _appliers) == 0 && !run.Done.Task.IsCompleted)
            {
                // No background applier in this process (a library or CLI use): apply here.
                await ApplyUploadsAsync(cancellationToken).ConfigureAwait(false);
            }
            await run.Done.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        else
        {
            // Another process's upload, or one from before a restart: apply what this process may, then look.
            if (UploadStatusOf(runId) is { State: "pending" })
            {
                _walScanNeeded = true;
                await ApplyUploadsAsync(cancellationToken).ConfigureAwait(false);
            }
        }
        return UploadStatusOf(runId) ?? throw new LakehouseException(LakehouseErrorKind.NotFound, $"no upload with run id '{runId}' in this lake");
    }

    /// <summary>
    /// Waits until every upload this process acknowledged before the call is applied with its after-apply steps (the
    /// server's gold rebuild), or failed for good (a reader that must see what DoGet shows, SQL, calls it first). Uploads acknowledged after the call are not waited for. Applies them
    /// here when no background applier runs in this process.
    /// </summary>
    /// <returns>How many uploads were waited for.</returns>
    public async Task<int> WaitForAcknowledgedUploadsAsync(CancellationToken cancellationToken = default)
    {
        if (Volatile.Read(ref _unsettled) == 0)
        {
            // The common case, without a look at every run of the process.
            return 0;
        }
        var open = _runs.Values.Select(r => r.Settled.Task).Where(t => !t.IsCompleted).ToArray();
        if (open.Length == 0)
        {
            return 0;
        }
        if (Volatile.Read(ref _appliers) == 0)
        {
            await ApplyUploadsAsync(cancellationToken).ConfigureAwait(false);
        }
        await Task.WhenAll(open).WaitAsync(cancellationToken).ConfigureAwait(false);
        return open.Length;
    }

    /// <summary>A direct write waits for acknowledged uploads before it, so the lake applies writes in the order they were acknowledged.</summary>
    private async Task UploadBarrierAsync(CancellationToken cancellationToken)
    {
        if (_inApplier.Value)
        {
            return;
        }
        bool pending;
        lock (_walQueue)
        {
            pending = _walQueue.Count > 0;
        }
        if (pending || _walScanNeeded)
        {
            await ApplyUploadsAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>The oldest upload to apply next: this process's queue, and entries of dead processes when a scan is due.</summary>
    private (WalEntry Entry, WalHeader Header, bool Adopted)? NextUpload()
    {
        if (_walScanNeeded)
        {
            _walScanNeeded = false;
            foreach (var e in _wal.List())
            {
                var mine = e.Pid == Environment.ProcessId;
                if (OwnedEntries.ContainsKey(e.Path) || (!mine && ProcessLiveness.IsAlive(e.Pid)))
                {
                    continue;
                }
                lock (_walQueue)
                {
                    if (_walQueue.Any(q => q.Entry.Path == e.Path))
                    {
                        continue;
                    }
                }
                var read = WriteAheadLog.ReadHeader(e);
                if (read is null)
                {
                    // Cut short by a crash before it was acknowledged.
                    DurableFile.TryDelete(e.Path);
                    continue;
                }
                OwnedEntries[e.Path] = 0;
                if (_runs.TryAdd(e.RunId, new UploadRun(0)))
                {
                    Interlocked.Increment(ref _unsettled);
                }
                lock (_walQueue)
                {
                    _walQueue.Add((e with { Adopted = true }, read));
                }
            }
        }
        lock (_walQueue)
        {
            if (_walQueue.Count == 0)
            {
                return null;
            }
            var next = _walQueue.MinBy(q => q.Entry.Ticks);
            return (next.Entry, next.Header, next.Entry.Adopted);
        }
    }

    private async Task ApplyUploadAsync(WalEntry entry, WalHeader header, bool adopted, CancellationToken cancellationToken)
    {
        var run = _runs.GetOrAdd(header.RunId, _ => new UploadRun(0));
        run.Set("applying", null);
        try
        {
            var read = WriteAheadLog.Read(entry);
            if (read is null)
            {
                Dequeue(entry);
                DurableFile.TryDelete(entry.Path);
                DropPending(header.RunId);
                run.Finish("failed", "the upload's log entry was cut short before it was acknowledged");
                Settle(run);
                return;
            }
            var rows = read.Value.Batches.Count == 1 ? read.Value.Batches[0] : RecordBatches.Concatenate(read.Value.Batches);
            run.Rows = rows.Length;
            var targets = header.Targets.Select(t => (Table: Catalog.Get(Layers.Parse(t.Layer), t.Table), t.Source)).ToArray();
            // After a crash part of the upload may be committed: those symbols are skipped, their reports kept.
            // What is committed already: after a crash, from the manifests (once); after a failed attempt in
            // this process (a full disk), from the run's own reports. Those symbols are skipped.
            if (adopted && !run.Scanned)
            {
                run.Add(CommittedReports(header.RunId, targets.Select(t => new TableId(t.Table, t.Table.PerSource ? t.Source : null)).ToArray()));
                run.Scanned = true;
            }
            var doneKeys = run.Snapshot().Select(r => (r.Layer, r.Table, r.Symbol)).ToHashSet();
            // Chunks hold disjoint symbols, so their commits lock disjoint keys and may overlap: one stages
            // and encodes while another waits on the disk. Each is whole to readers.
            await Parallel.ForEachAsync(SymbolChunks(rows, Options.UploadApplyChunkRows),
                new ParallelOptions { MaxDegreeOfParallelism = UploadApplyParallelism, CancellationToken = cancellationToken },
                async (chunk, ct) =>
                {
                    var writes = new List<TableWrite>();
                    foreach (var (table, source) in targets)
                    {
                        var layer = Layers.Name(table.Layer);
                        var picks = chunk.Where(s => !doneKeys.Contains((layer, table.Name, s.Symbol))).SelectMany(s => s.Rows).Select(r => new RowRef(0, r)).ToArray();
                        if (picks.Length > 0)
                        {
                            writes.Add(new TableWrite(table, picks.Length == rows.Length ? rows : ArrowRows.Take(rows.Schema, [rows], picks), source));
                        }
                    }
                    if (writes.Count > 0)
                    {
                        run.Add(await WriteCoreAsync(writes, header.RunId, header.Ts, ct).ConfigureAwait(false));
                    }
                    // Committed (and in the cache): reads take these symbols from the table now.
                    PendingApplied(header.RunId, chunk.Select(s => s.Symbol));
                }).ConfigureAwait(false);
            Dequeue(entry);
            File.Delete(entry.Path);
            DropPending(header.RunId);
            run.Finish("applied", null);
            StorageLog.UploadApplied(_logger, header.RunId, rows.Length);
            // Derived tables follow (gold); after a crash the reports committed before it count too, so
            // gold is rebuilt for every symbol the upload changed. The upload is visible already.
            try
            {
                await NotifyAppliedAsync(run.Snapshot(), cancellationToken).ConfigureAwait(false);
            }
            finally
            {
                Settle(run);
                ForgetAppliedRuns(header.RunId);
            }
        }
        catch (LakehouseException ex) when (ex.Kind == LakehouseErrorKind.InvalidArgument)
        {
            // Checked before the acknowledgement, so only a changed catalogue gets here: keep the rows, move them aside.
            Dequeue(entry);
            var failed = Path.Combine(_wal.Dir, "failed");
            Directory.CreateDirectory(failed);
            File.Move(entry.Path, Path.Combine(failed, Path.GetFileName(entry.Path)), overwrite: true);
            DropPending(header.RunId);
            run.Finish("failed", ex.Message);
            Settle(run);
            StorageLog.UploadApplyFailed(_logger, ex.Message, 0);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            run.Set("pending", ex.Message);
            throw;
        }
        catch (OperationCanceledException)
        {
            run.Set("pending", null);
            throw;
        }
    }

    /// <summary>Runs acknowledged and not yet settled (applied with their after-apply steps run, or failed for good).</summary>
    private int _unsettled;

    private void Settle(UploadRun run)
    {
        if (run.Settled.TrySetResult())
        {
            Interlocked.Decrement(ref _unsettled);
        }
    }

    /// <summary>Applied runs kept in memory after <see cref="AppliedRunsKept"/>, oldest first: the manifests answer for the older ones.</summary>
    private readonly ConcurrentQueue<string> _appliedRuns = new();

    /// <summary>
    /// How many applied uploads' statuses stay in memory (a long-running server acknowledges thousands a day, each with a
    /// report per symbol); <see cref="UploadStatusOf"/> reads an older one's reports back from the manifests. Failed and
    /// pending runs are always kept.
    /// </summary>
    internal int AppliedRunsKept { get; set; } = 1000;

    private void ForgetAppliedRuns(string applied)
    {
        _appliedRuns.Enqueue(applied);
        while (_appliedRuns.Count > AppliedRunsKept && _appliedRuns.TryDequeue(out var oldest))
        {
            _runs.TryRemove(oldest, out _);
        }
    }

    private void Dequeue(WalEntry entry)
    {
        lock (_walQueue)
        {
            _walQueue.RemoveAll(q => q.Entry.Path == entry.Path);
        }
        OwnedEntries.TryRemove(entry.Path, out _);
    }

    private async Task NotifyAppliedAsync(IReadOnlyList<StorageReport> reports, CancellationToken cancellationToken)
    {
        Func<IReadOnlyList<StorageReport>, CancellationToken, Task>[] handlers;
        lock (_appliedHandlers)
        {
            handlers = [.. _appliedHandlers];
        }
        foreach (var h in handlers)
        {
            try
            {
                await h(reports, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                StorageLog.UploadApplyFailed(_logger, "after-apply step failed (the upload stays applied): " + ex.Message, 0);
            }
        }
    }

    /// <summary>Whole symbols (ordinal order), grouped into chunks of about <paramref name="chunkRows"/> rows.</summary>
    private static List<List<(string Symbol, List<int> Rows)>> SymbolChunks(RecordBatch rows, int chunkRows)
    {
        var symbols = (StringArray)rows.Column(TableDefinition.SymbolColumn);
        var bySymbol = new SortedDictionary<string, List<int>>(StringComparer.Ordinal);
        var normalized = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var r = 0; r < rows.Length; r++)
        {
            var raw = symbols.GetString(r);
            if (!normalized.TryGetValue(raw, out var s))
            {
                normalized[raw] = s = Symbols.Normalize(raw);
            }
            if (!bySymbol.TryGetValue(s, out var list))
            {
                bySymbol[s] = list = [];
            }
            list.Add(r);
        }
        var chunks = new List<List<(string, List<int>)>>();
        var current = new List<(string, List<int>)>();
        var n = 0;
        foreach (var (symbol, list) in bySymbol)
        {
            if (n > 0 && n + list.Count > chunkRows)
            {
                chunks.Add(current);
                current = [];
                n = 0;
            }
            current.Add((symbol, list));
            n += list.Count;
        }
        if (current.Count > 0)
        {
            chunks.Add(current);
        }
        return chunks;
    }

    /// <summary>Manifest lines of <paramref name="runId"/> in the given tables (all writable tables when null).</summary>
    private List<StorageReport> CommittedReports(string runId, IReadOnlyList<TableId>? tables)
    {
        var defs = tables?.Select(t => t.Definition).Distinct().ToArray() ?? Catalog.Tables.Where(t => !t.Derived).ToArray();
        var needle = $"\"run_id\":\"{runId}\"";
        var reports = new List<StorageReport>();
        foreach (var def in defs)
        {
            var lines = new List<string>();
            ManifestLog.ReadLines(Paths.ManifestFile(def), 0, lines);
            foreach (var line in lines)
            {
                if (!line.Contains(needle, StringComparison.Ordinal))
                {
                    continue;
                }
                try
                {
                    if (StorageReport.FromJson(line) is { } r
                        && (tables is null || tables.Any(t => t.Definition == def && (t.Source is null || t.Source == r.Source))))
                    {
                        reports.Add(r);
                    }
                }
                catch (System.Text.Json.JsonException)
                {
                }
            }
        }
        return reports;
    }

    /// <summary>The folder a write to <paramref name="table"/> goes to, and its normalised source; refuses tables of another catalogue.</summary>
    private (TableId Table, string? Source) Resolve(TableDefinition table, string? source)
    {
        if (Catalog.Find(table.Layer, table.Name) != table)
        {
            throw LakehouseException.Invalid($"{table.Id} is not a table of this lake's catalogue");
        }
        var normalized = source is null ? null : Sources.Normalize(source);
        if (table.PerSource && normalized is null)
        {
            throw LakehouseException.Invalid($"{table.Id} is kept per source: name the source, e.g. vendor_x");
        }
        return (new TableId(table, table.PerSource ? normalized : null), normalized);
    }


    private sealed class UploadRun(long rows)
    {
        public long Rows { get; set; } = rows;

        /// <summary>The manifests were read for this run's committed symbols (an adopted upload, once).</summary>
        public bool Scanned { get; set; }
        public string State { get; private set; } = "pending";
        public string? Error { get; private set; }
        public List<StorageReport> Reports { get; } = [];
        public TaskCompletionSource Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        /// <summary>Applied and its after-apply steps (the server's gold rebuild) run, or failed for good.</summary>
        public TaskCompletionSource Settled { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public void Set(string state, string? error)
        {
            lock (this)
            {
                State = state;
                Error = error;
            }
        }

        public void Add(IEnumerable<StorageReport> reports)
        {
            lock (this)
            {
                Reports.AddRange(reports);
            }
        }

        public List<StorageReport> Snapshot()
        {
            lock (this)
            {
                return [.. Reports];
            }
        }

        public void Finish(string state, string? error)
        {
            Set(state, error);
            Done.TrySetResult();
        }
    }
}
