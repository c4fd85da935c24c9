using System.Collections.Immutable;
using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// What one commit writes, worked out against one version of the lake (under the writer locks of its tables):
/// per symbol and band, the incoming rows are classified against the rows already there (inserted, updated,
/// unchanged, rejected). Inserted rows (keys the table does not hold) go into new files; an updated key is
/// replaced in the one file that holds it, which is rewritten whole with the same keys (copy-on-write), so every
/// key stays in exactly one file and a correction rewrites one file, not the table. Rows already there are read
/// only where an incoming day falls inside a file's span for the symbol, so appends of new days read nothing.
/// </summary>
internal sealed class WriteStaging(LakeState state, ReadCache cache, FileStore files)
{
    private readonly Dictionary<(TableDefinition Table, string? Source, int Band), List<RecordBatch>> _inserts = [];
    // The last inserted range per table, source and band, still open for the next symbol's adjacent rows of the same batch.
    private readonly Dictionary<(TableDefinition Table, string? Source, int Band), (RecordBatch Rows, int Start, int Count)> _open = [];
    private readonly Dictionary<(TableDefinition Table, string Symbol), SymbolUpdates> _updates = [];
    private readonly Dictionary<TableDefinition, SortedSet<string>> _changed = [];
    private readonly List<SymbolChange> _changes = [];
    private readonly List<(TableId Table, string Symbol)> _readAfter = [];

    public LakeState State => state;

    /// <summary>Changes for the caches once committed.</summary>
    public IReadOnlyList<SymbolChange> Changes => _changes;

    public bool HasChanges => _inserts.Count > 0 || _updates.Count > 0;

    /// <summary>Tables whose files change.</summary>
    public IEnumerable<TableDefinition> ChangedTables => _changed.Keys;

    /// <summary>
    /// <see cref="StageSymbol"/> for each symbol of a write, in order; their reports. Many symbols are classified on all
    /// cores (each reads only the version staged against: its runs, its cache entry or file rows), and what each stages
    /// is then recorded in the symbols' order, as one loop would: a 20,000-symbol day spent 0.3-0.8 s per commit here.
    /// </summary>
    public StorageReport[] StageSymbols(TableId table, TableWrite write, RecordBatch rows, IReadOnlyList<SymbolRows> symbols, string runId,
        DateTimeOffset now, string location, CancellationToken cancellationToken)
    {
        var reports = new StorageReport[symbols.Count];
        if (symbols.Count < ParallelStagingMin)
        {
            for (var i = 0; i < reports.Length; i++)
            {
                cancellationToken.ThrowIfCancellationRequested();
                reports[i] = StageSymbol(table, write, rows, symbols[i], runId, now, location);
            }
            return reports;
        }
        var staged = new List<Action>[symbols.Count];
        // The row groups the symbols' current rows are read from, each decoded once for all of them (gold's monthly bars of
        // a day's 20,000 symbols are one file: a read per symbol through the caches was ~0.8 s), dropped after staging.
        _groups = new System.Collections.Concurrent.ConcurrentDictionary<(string, int), RecordBatch>();
        try
        {
            AllCores.For(symbols.Count, i =>
            {
                var effects = new List<Action>(2);
                reports[i] = StageSymbol(table, write, rows, symbols[i], runId, now, location, effects);
                staged[i] = effects;
            }, cancellationToken);
        }
        finally
        {
            _groups = null;
        }
        foreach (var effects in staged)
        {
            foreach (var effect in effects)
            {
                effect();
            }
        }
        return reports;
    }

    /// <summary>Symbols in a write from which they are classified on all cores (below: one loop, no scheduling).</summary>
    private const int ParallelStagingMin = 64;

    /// <summary>Row groups (16K rows each) <see cref="StageSymbols"/> keeps decoded for all the write's symbols at most: ~1M rows.</summary>
    private const int MaxSharedGroups = 64;

    /// <summary>Row groups decoded while <see cref="StageSymbols"/> classifies many symbols (null otherwise).</summary>
    private System.Collections.Concurrent.ConcurrentDictionary<(string, int), RecordBatch>? _groups;

    /// <summary>
    /// Classifies one symbol's incoming rows (<paramref name="symbol"/>'s rows of <paramref name="rows"/>, already in the
    /// table's shape) and returns its report (without the version and duration, set at commit). With
    /// <paramref name="effects"/>, what it stages is added there to be run later (on one thread, in the symbols' order),
    /// and nothing of this staging is changed: the classification alone may run beside other symbols'.
    /// </summary>
    private StorageReport StageSymbol(TableId table, TableWrite write, RecordBatch rows, SymbolRows symbol, string runId,
        DateTimeOffset now, string location, List<Action>? effects = null)
    {
        var def = table.Definition;
        // The write's clock, not one read per symbol (a clock read was ~3 us here: 0.1 s of a 20,000-symbol day).
        var today = DateOnly.FromDateTime(now.UtcDateTime);
        var reasons = new List<string>();
        var rejected = new HashSet<int>();
        if (def.Mode == WriteMode.Upsert && def.Validator is { } validate)
        {
            foreach (var r in symbol.Rows)
            {
                if (validate(rows, r, today) is { } reason)
                {
                    reasons.Add(reason);
                    rejected.Add(r);
                }
            }
        }
        long inserted = 0, updated = 0, unchanged = 0;
        foreach (var (band, bandRows) in symbol.Bands)
        {
            var kept = rejected.Count == 0 ? bandRows : bandRows.Where(r => !rejected.Contains(r)).ToList();
            if (kept.Count == 0)
            {
                continue;
            }
            var adjacent = kept[^1] - kept[0] == kept.Count - 1;
            if (adjacent && NewRows(table, symbol.Symbol, band, rows, kept[0], kept.Count))
            {
                // New days only (a daily append): inserted as a range of the write, no slice, no read.
                var (start, count) = (kept[0], kept.Count);
                Record(effects, () =>
                {
                    AddInsertRange(table, band, rows, start, count);
                    MarkChanged(def, symbol.Symbol);
                    _changes.Add(new SymbolChange(table, symbol.Symbol, band, rows, start, count));
                });
                inserted += count;
                continue;
            }
            // Rows of a symbol and band side by side in the write (the rule: rows come grouped and in order) are a
            // slice of it, not a copy.
            var incoming = adjacent
                ? rows.Slice(kept[0], kept.Count)
                : ArrowRows.Take(def.Schema, [rows], kept.Select(r => new RowRef(0, r)).ToArray());
            var counts = StageBand(table, symbol.Symbol, band, incoming, effects);
            inserted += counts.Inserted;
            updated += counts.Updated;
            unchanged += counts.Unchanged;
        }
        if (write.Rejected?.GetValueOrDefault(symbol.Symbol) is { Count: > 0 } refused)
        {
            reasons.InsertRange(0, refused);
        }
        var days = (Date32Array)rows.Column(DateIndex(rows, def));
        var first = symbol.Rows.Min(r => days.Values[r]);
        var last = symbol.Rows.Max(r => days.Values[r]);
        return new StorageReport
        {
            RunId = runId,
            Ts = now,
            Source = table.Source ?? write.Source ?? SourcesOf(rows, symbol.Rows),
            Layer = Layers.Name(def.Layer),
            Table = def.Name,
            Location = location,
            Symbol = symbol.Symbol,
            DateFrom = Iso(first),
            DateTo = Iso(last),
            Rows = symbol.Rows.Length + (reasons.Count - rejected.Count),
            Inserted = inserted,
            Updated = updated,
            Unchanged = unchanged,
            Rejected = reasons.Count,
            RejectReasons = reasons.Count == 0 ? null : reasons.Take(10).ToArray(),
        };
    }

    /// <summary>
    /// Stages rows already in the table's shape, lineage included (a migration from the seed layout), as inserts of a
    /// symbol the table does not hold yet: no validation, no classification, no stamping, so every value is kept
    /// exactly. Refuses a symbol the table (or, per source, that source) already has rows of: an insert next to them
    /// could put one key into two files.
    /// </summary>
    public void StageRows(TableId table, string symbol, RecordBatch rows)
    {
        var def = table.Definition;
        if (state.Table(def).RunsOf(symbol).Any(r => !def.PerSource || r.File.Source == table.Source))
        {
            throw new InvalidOperationException($"{table}: {symbol} already has rows; rows are staged as inserts only into a symbol without any");
        }
        var days = ((Date32Array)rows.Column(DateIndex(rows, def))).Values;
        var bands = new SortedDictionary<int, List<RowRef>>();
        for (var r = 0; r < rows.Length; r++)
        {
            var band = def.BandOf(DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + days[r]));
            if (!bands.TryGetValue(band, out var picks))
            {
                bands[band] = picks = [];
            }
            picks.Add(new RowRef(0, r));
        }
        foreach (var (band, picks) in bands)
        {
            var part = bands.Count == 1 ? rows : ArrowRows.Take(def.Schema, [rows], picks.ToArray());
            AddInsert(table, band, part);
            Changed(table, symbol, band, part);
        }
    }

    private (long Inserted, long Updated, long Unchanged) StageBand(TableId table, string symbol, int band, RecordBatch incoming, List<Action>? effects)
    {
        var def = table.Definition;
        var runs = state.Table(def).RunsOf(symbol)
            .Where(r => r.File.Band == band && (!def.PerSource || r.File.Source == table.Source))
            .ToImmutableArray();
        var days = ((Date32Array)incoming.Column(DateIndex(incoming, def))).Values.ToArray();
        System.Array.Sort(days);
        // Only files whose span of this symbol's dates holds an incoming day can hold an incoming key.
        var overlapping = runs.Where(r => HasDayWithin(days, r.MinDay, r.MaxDay)).ToImmutableArray();
        if (overlapping.IsEmpty)
        {
            Record(effects, () =>
            {
                AddInsert(table, band, incoming);
                Changed(table, symbol, band, incoming);
            });
            return (incoming.Length, 0, 0);
        }
        var current = Current(table, symbol, band, overlapping);
        if (def.Mode == WriteMode.Append)
        {
            var (fresh, same) = UpsertMerge.AppendNew(def, current, incoming);
            if (fresh.Length > 0)
            {
                Record(effects, () =>
                {
                    AddInsert(table, band, fresh);
                    Changed(table, symbol, band, fresh);
                });
            }
            return (fresh.Length, 0, same);
        }
        var split = UpsertMerge.Classify(def, current, incoming);
        var changed = split.Inserted.Length + split.Updated.Length == 0 ? null
            : split.Inserted.Length == 0 ? split.Updated
            : split.Updated.Length == 0 ? split.Inserted : ArrowConcat.Concatenate([split.Inserted, split.Updated]);
        Record(effects, () =>
        {
            if (split.Inserted.Length > 0)
            {
                AddInsert(table, band, split.Inserted);
            }
            if (split.Updated.Length > 0)
            {
                if (!_updates.TryGetValue((def, symbol), out var updates))
                {
                    _updates[(def, symbol)] = updates = new SymbolUpdates(table, symbol);
                }
                updates.Add(split.Updated, overlapping);
            }
            if (changed is not null)
            {
                Changed(table, symbol, band, changed);
            }
        });
        return (split.Inserted.Length, split.Updated.Length, split.Unchanged);
    }

    /// <summary>
    /// Whether rows [start, start + count) of <paramref name="rows"/> (one symbol's, one band's) hold only days that no
    /// file's span of the symbol covers: then every row is an insert (what <see cref="StageBand"/> finds, without a slice).
    /// </summary>
    private bool NewRows(TableId table, string symbol, int band, RecordBatch rows, int start, int count)
    {
        var def = table.Definition;
        var days = ((Date32Array)rows.Column(DateIndex(rows, def))).Values.Slice(start, count);
        int min = int.MaxValue, max = int.MinValue;
        foreach (var d in days)
        {
            min = Math.Min(min, d);
            max = Math.Max(max, d);
        }
        foreach (var run in state.Table(def).RunsOf(symbol))
        {
            if (run.File.Band != band || (def.PerSource && run.File.Source != table.Source) || run.MaxDay < min || run.MinDay > max)
            {
                continue;
            }
            foreach (var d in days)
            {
                if (d >= run.MinDay && d <= run.MaxDay)
                {
                    return false;
                }
            }
        }
        return true;
    }

    /// <summary>Runs what a symbol stages now, or adds it to <paramref name="effects"/> (<see cref="StageSymbols"/>).</summary>
    private static void Record(List<Action>? effects, Action effect)
    {
        if (effects is null)
        {
            effect();
        }
        else
        {
            effects.Add(effect);
        }
    }

    /// <summary>The symbol's rows of the band in the files that may hold incoming keys: from its cache entry when it has one, else decoded.</summary>
    private RecordBatch Current(TableId table, string symbol, int band, ImmutableArray<FileRun> runs)
    {
        var def = table.Definition;
        if (!def.PerSource && cache.TryEntry(table, symbol, out var entry))
        {
            var (first, last) = def.BandBounds(band);
            return entry.Rows(def.Schema.GetFieldIndex(def.DateColumn, StringComparer.Ordinal), ArrowRows.DayNumber(first), ArrowRows.DayNumber(last));
        }
        // The shared groups up to a bound (a re-upload of years of many symbols reads through the budgeted caches as before).
        return cache.LoadRuns(def, runs, null, null, _groups is { Count: < MaxSharedGroups } ? _groups : null, CancellationToken.None);
    }

    private static bool HasDayWithin(int[] sortedDays, int min, int max)
    {
        var i = System.Array.BinarySearch(sortedDays, min);
        i = i >= 0 ? i : ~i;
        return i < sortedDays.Length && sortedDays[i] <= max;
    }

    private void AddInsert(TableId table, int band, RecordBatch rows)
    {
        var key = (table.Definition, table.Definition.PerSource ? table.Source : null, band);
        CloseRange(key);
        if (!_inserts.TryGetValue(key, out var list))
        {
            _inserts[key] = list = [];
        }
        list.Add(rows);
        MarkChanged(table.Definition, null);
    }

    /// <summary>
    /// Inserts rows [start, start + count) of <paramref name="rows"/>: the next symbol's rows right after them in the same
    /// batch widen the same range, so a write of 20,000 symbols' new days is one slice, not 20,000.
    /// </summary>
    private void AddInsertRange(TableId table, int band, RecordBatch rows, int start, int count)
    {
        var key = (table.Definition, table.Definition.PerSource ? table.Source : null, band);
        if (_open.TryGetValue(key, out var open) && ReferenceEquals(open.Rows, rows) && open.Start + open.Count == start)
        {
            _open[key] = (rows, open.Start, open.Count + count);
        }
        else
        {
            CloseRange(key);
            _open[key] = (rows, start, count);
        }
        if (!_inserts.ContainsKey(key))
        {
            _inserts[key] = [];
        }
        MarkChanged(table.Definition, null);
    }

    /// <summary>Moves the open range of a table, source and band (if any) into its inserts, keeping the order of insertion.</summary>
    private void CloseRange((TableDefinition, string?, int) key)
    {
        if (_open.Remove(key, out var open))
        {
            _inserts[key].Add(open.Start == 0 && open.Count == open.Rows.Length ? open.Rows : open.Rows.Slice(open.Start, open.Count));
        }
    }

    private void CloseRanges()
    {
        foreach (var key in _open.Keys.ToArray())
        {
            CloseRange(key);
        }
    }

    private void Changed(TableId table, string symbol, int band, RecordBatch changed)
    {
        MarkChanged(table.Definition, symbol);
        _changes.Add(new SymbolChange(table, symbol, band, changed));
    }

    private void MarkChanged(TableDefinition table, string? symbol)
    {
        if (!_changed.TryGetValue(table, out var set))
        {
            _changed[table] = set = new SortedSet<string>(StringComparer.Ordinal);
        }
        if (symbol is not null)
        {
            set.Add(symbol);
        }
    }

    /// <summary>
    /// Encodes every new file (all cores): the inserted rows per table, source and band, sorted by key and cut at
    /// symbol boundaries into files of about <see cref="FileSizing.TargetRows"/>; and each file holding an updated key,
    /// rewritten with the new values. Returns the files written and the names they replace.
    /// </summary>
    public (List<StagedFile> Written, List<(TableDefinition Table, string Name)> Replaced) WriteFiles(CancellationToken cancellationToken)
    {
        CloseRanges();
        var warm = WarmJobs(cancellationToken);
        var jobs = new List<Func<StagedFile>>();
        foreach (var ((def, source, band), batches) in _inserts)
        {
            var sorted = SortByKey(def, batches);
            foreach (var chunk in FileSizing.Chunks(sorted))
            {
                jobs.Add(() => files.Write(def, band, source, chunk));
            }
        }
        var replaced = new List<(TableDefinition, string)>();
        foreach (var (def, file, updates) in PlanRewrites())
        {
            replaced.Add((def, file.Name));
            jobs.Add(() => files.Write(def, file.Band, file.Source, Rewrite(def, file, updates)));
        }
        var written = new StagedFile?[jobs.Count];
        try
        {
            Parallel.For(0, jobs.Count + warm.Count, new ParallelOptions { CancellationToken = cancellationToken, MaxDegreeOfParallelism = Environment.ProcessorCount },
                i =>
                {
                    if (i < jobs.Count)
                    {
                        written[i] = jobs[i]();
                    }
                    else
                    {
                        warm[i - jobs.Count]();
                    }
                });
        }
        catch
        {
            foreach (var w in written)
            {
                if (w is not null)
                {
                    DurableFile.TryDelete(w.Path);
                }
            }
            throw;
        }
        return ([.. written.Select(w => w!)], replaced);
    }

    /// <summary>A symbol the caller reads whole after the commit (<see cref="TableWrite.ReadAfter"/>).</summary>
    public void ReadAfter(TableId table, string symbol) => _readAfter.Add((table, symbol));

    /// <summary>
    /// Builds the cache entries of the changed symbols read after the commit, from the version staged against (under the
    /// writer lock: no commit can come between), beside the file encodes; the commit point splices the change into them.
    /// A correction's commit rewrites one file on one core while the other decodes the symbol's years (~20 row groups)
    /// that gold reads next (docs/decisions.md D46). Best effort: an entry that cannot be built is read later as before.
    /// </summary>
    private List<Action> WarmJobs(CancellationToken cancellationToken)
    {
        var jobs = new List<Action>();
        if (!cache.Symbols.Enabled)
        {
            return jobs;
        }
        foreach (var (table, symbol) in _readAfter.Distinct())
        {
            var def = table.Definition;
            if (def.PerSource || !_changed.TryGetValue(def, out var changed) || !changed.Contains(symbol) || cache.TryEntry(table, symbol, out _))
            {
                continue;
            }
            var tableState = state.Table(def);
            jobs.Add(() =>
            {
                try
                {
                    cache.EntryForRead(tableState, table, symbol, ReadCache.BuildEntryRuns, null, cancellationToken);
                }
                catch (Exception ex) when (ex is IOException or InvalidDataException or ParquetSharp.ParquetException)
                {
                    // Read after the commit instead.
                }
            });
        }
        return jobs;
    }

    /// <summary>Bytes the new files may take (an upper estimate: inserted rows, and the files rewritten).</summary>
    public long EstimatedFileBytes =>
        ((_inserts.Values.Sum(l => l.Sum(b => (long)b.Length)) + _open.Values.Sum(o => (long)o.Count)) * 48)
        + _updates.Values.SelectMany(u => u.Runs).Select(r => r.File).Distinct().Sum(f => f.Bytes);

    /// <summary>The symbols whose rows changed per table (for the log entry).</summary>
    public IReadOnlyList<string> ChangedSymbols(TableDefinition table) => _changed.TryGetValue(table, out var set) ? [.. set] : [];

    private static RecordBatch SortByKey(TableDefinition def, List<RecordBatch> batches)
    {
        // A write's new days, one range of its rows (symbols grouped, ascending, keys rising): in table order already.
        if (batches.Count == 1 && InTableOrder(def, batches[0]))
        {
            return batches[0];
        }
        // Otherwise each batch holds one symbol's rows of the band (a range: several symbols, split here), usually in key
        // order already. UpsertMerge.Combine orders by the key after the symbol (it merges one symbol's rows), so symbols
        // are put in order here and merged one by one: a file interleaving symbols would break its symbol directory and
        // the row groups' symbol statistics.
        var bySymbol = batches.Where(b => b.Length > 0)
            .SelectMany(b => RecordBatches.Runs((StringArray)b.Column(TableDefinition.SymbolColumn))
                .Select(r => r.Start == 0 && r.Count == b.Length ? b : b.Slice(r.Start, r.Count)));
        var parts = new List<RecordBatch>(batches.Count);
        foreach (var group in bySymbol
                     .GroupBy(b => ((StringArray)b.Column(TableDefinition.SymbolColumn)).GetString(0), StringComparer.Ordinal)
                     .OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            var list = group.ToList();
            parts.Add(list.Count == 1 && InKeyOrder(def, list[0]) ? list[0] : UpsertMerge.Combine(def, list));
        }
        return parts.Count switch
        {
            0 => batches[0],
            1 => parts[0],
            _ => ArrowConcat.ConcatenateManaged(parts),
        };
    }

    /// <summary>
    /// Whether a batch is in the table's order with no key twice: symbols ascending (ASCII bytes; any other byte: not
    /// decided here) and, within a symbol, dates rising (tables keyed by symbol and date only).
    /// </summary>
    private static bool InTableOrder(TableDefinition def, RecordBatch batch)
    {
        if (def.Key.Count > 2)
        {
            return false;
        }
        var symbols = (StringArray)batch.Column(TableDefinition.SymbolColumn);
        if (symbols.NullCount > 0)
        {
            return false;
        }
        var offsets = symbols.ValueOffsets;
        var data = symbols.Values;
        var days = ((Date32Array)batch.Column(DateIndex(batch, def))).Values;
        for (var i = 1; i < batch.Length; i++)
        {
            var previous = data[offsets[i - 1]..offsets[i]];
            var current = data[offsets[i]..offsets[i + 1]];
            if (previous.ContainsAnyInRange((byte)0x80, (byte)0xFF) || current.ContainsAnyInRange((byte)0x80, (byte)0xFF))
            {
                return false;
            }
            var order = previous.SequenceCompareTo(current);
            if (order > 0 || (order == 0 && days[i] <= days[i - 1]))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>
    /// Whether one symbol's rows are in key order: dates strictly rising. That holds for raw landings too (append
    /// tables order equal keys by source and landing time, and one write's rows of a symbol never repeat a key).
    /// </summary>
    private static bool InKeyOrder(TableDefinition def, RecordBatch batch)
    {
        if (def.Key.Count > 2)
        {
            return false;
        }
        var days = ((Date32Array)batch.Column(DateIndex(batch, def))).Values;
        for (var i = 1; i < days.Length; i++)
        {
            if (days[i] <= days[i - 1])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Which files hold the updated keys: each key is looked for in the runs whose dates cover it.</summary>
    private IEnumerable<(TableDefinition Table, DataFile File, List<SymbolUpdates> Updates)> PlanRewrites()
    {
        // A daily append updates a row of thousands of symbols in one file (gold's current month): the set keeps this linear.
        var byFile = new Dictionary<(TableDefinition, string), (DataFile File, List<SymbolUpdates> Updates, HashSet<SymbolUpdates> Seen)>();
        foreach (var updates in _updates.Values)
        {
            foreach (var run in updates.Runs)
            {
                if (!updates.AnyDayWithin(run.MinDay, run.MaxDay))
                {
                    continue;
                }
                var key = (updates.Table.Definition, run.File.Name);
                if (!byFile.TryGetValue(key, out var entry))
                {
                    byFile[key] = entry = (run.File, [], []);
                }
                if (entry.Seen.Add(updates))
                {
                    entry.Updates.Add(updates);
                }
            }
        }
        return byFile.Select(kv => (kv.Key.Item1, kv.Value.File, kv.Value.Updates));
    }

    /// <summary>A file's rows with the updated keys' rows replaced by their new values (same keys, same order).</summary>
    private RecordBatch Rewrite(TableDefinition def, DataFile file, List<SymbolUpdates> updates)
    {
        var rows = SegmentFiles.ReadAll(files.StorePath(def, file.Name), def);
        var keyColumns = UpsertMerge.KeyColumns(def);
        // The replaced rows, in file order; the symbols' row ranges come from the plan (the file's directory), not a scan.
        var replaced = new List<(int Row, RecordBatch Source, int At)>();
        foreach (var u in updates)
        {
            // A symbol has one run per file (a symbol staged twice may list it twice).
            foreach (var run in u.Runs.Where(r => r.File.Name == file.Name).DistinctBy(r => r.Start))
            {
                for (var r = run.Start; r < run.Start + run.Count; r++)
                {
                    if (u.Find(rows, r, keyColumns) is { } j)
                    {
                        replaced.Add((r, u.Rows, j));
                        u.Placed(j);
                    }
                }
            }
        }
        replaced.Sort((a, b) => a.Row.CompareTo(b.Row));
        // The file's rows between replaced ones are slices; the copy is one column copy per piece, not a gather per row.
        var pieces = new List<RecordBatch>(replaced.Count * 2 + 1);
        var next = 0;
        foreach (var (row, source, at) in replaced)
        {
            if (row > next)
            {
                pieces.Add(rows.Slice(next, row - next));
            }
            pieces.Add(source.Slice(at, 1));
            next = row + 1;
        }
        if (next < rows.Length)
        {
            pieces.Add(rows.Slice(next, rows.Length - next));
        }
        return pieces.Count == 1 ? pieces[0] : ArrowConcat.ConcatenateManaged(pieces);
    }

    /// <summary>Checks that every updated key was found in exactly one file (the one-file-per-key rule held).</summary>
    public void CheckPlaced()
    {
        foreach (var u in _updates.Values)
        {
            if (u.Unplaced() is { } missing)
            {
                throw new InvalidOperationException($"{u.Table}: updated key of {u.Symbol} at row {missing} was not found in any file of its band");
            }
        }
    }

    private static string SourcesOf(RecordBatch rows, int[] which)
    {
        var i = rows.Schema.GetFieldIndex(TableDefinition.SourceColumn, StringComparer.Ordinal);
        if (i < 0)
        {
            return "";
        }
        var source = (StringArray)rows.Column(i);
        return string.Join(',', which.Select(r => source.GetString(r)).Distinct());
    }

    /// <summary>The date column's position, by ordinal name (Arrow's by-name lookup hashes the name by culture: ~10% of staging a 20,000-symbol write).</summary>
    private static int DateIndex(RecordBatch rows, TableDefinition def) => rows.Schema.GetFieldIndex(def.DateColumn, StringComparer.Ordinal);

    private static string Iso(int day) =>
        DateOnly.FromDayNumber(ArrowRows.UnixEpochDay + day).ToString("yyyy-MM-dd", System.Globalization.CultureInfo.InvariantCulture);

    /// <summary>One symbol's updated rows (new values) of one table, and the runs that may hold their keys.</summary>
    private sealed class SymbolUpdates(TableId table, string symbol)
    {
        private readonly List<RecordBatch> _batches = [];
        private readonly List<FileRun> _runs = [];
        private Dictionary<(int Day, string Others), int>? _keys;
        private RecordBatch? _rows;
        private int[]? _placed;

        public TableId Table { get; } = table;

        public string Symbol { get; } = symbol;

        public IReadOnlyList<FileRun> Runs => _runs;

        /// <summary>All updated rows of the symbol (every band), in one batch.</summary>
        public RecordBatch Rows => _rows ??= _batches.Count == 1 ? _batches[0] : ArrowConcat.Concatenate(_batches);

        public void Add(RecordBatch rows, ImmutableArray<FileRun> runs)
        {
            _batches.Add(rows);
            _runs.AddRange(runs);
        }

        public bool AnyDayWithin(int min, int max)
        {
            var days = ((Date32Array)Rows.Column(DateIndex(Rows, Table.Definition))).Values;
            foreach (var d in days)
            {
                if (d >= min && d <= max)
                {
                    return true;
                }
            }
            return false;
        }

        /// <summary>The updated row with the key of row <paramref name="r"/> of <paramref name="file"/>, or null.</summary>
        public int? Find(RecordBatch file, int r, int[] keyColumns)
        {
            _keys ??= KeysOf(Rows, keyColumns);
            return _keys.TryGetValue(KeyOf(file, r, keyColumns), out var j) ? j : null;
        }

        public void Placed(int j)
        {
            lock (this)
            {
                (_placed ??= new int[Rows.Length])[j]++;
            }
        }

        /// <summary>An updated row not placed exactly once, or null when all were.</summary>
        public int? Unplaced()
        {
            for (var j = 0; j < Rows.Length; j++)
            {
                if (_placed is null || _placed[j] != 1)
                {
                    return j;
                }
            }
            return null;
        }

        private static Dictionary<(int, string), int> KeysOf(RecordBatch rows, int[] keyColumns)
        {
            var keys = new Dictionary<(int, string), int>(rows.Length);
            for (var j = 0; j < rows.Length; j++)
            {
                keys[KeyOf(rows, j, keyColumns)] = j;
            }
            return keys;
        }

        private static (int, string) KeyOf(RecordBatch rows, int r, int[] keyColumns)
        {
            var day = ((Date32Array)rows.Column(keyColumns[0])).Values[r];
            if (keyColumns.Length == 1)
            {
                return (day, "");
            }
            return (day, string.Join('\u001f', keyColumns.Skip(1).Select(c => ((StringArray)rows.Column(c)).GetString(r))));
        }
    }
}

/// <summary>How large data files are: the compactor and the writers cut rows into files of about <see cref="TargetRows"/>.</summary>
internal static class FileSizing
{
    /// <summary>Rows of a full data file: the trade between what a correction rewrites (one file) and how many files a reader lists (docs/decisions.md D35).</summary>
    public const int TargetRows = 128 * 1024;

    /// <summary>Rows under which a file is small: the compactor merges small files of a band.</summary>
    public const int SmallRows = 32 * 1024;

    /// <summary>Sorted rows cut at symbol boundaries into chunks of about <see cref="TargetRows"/> (never more than 1.5x unless one symbol is larger).</summary>
    public static IEnumerable<RecordBatch> Chunks(RecordBatch sorted, int target = TargetRows)
    {
        if (sorted.Length <= target + (target / 2))
        {
            yield return sorted;
            yield break;
        }
        var symbols = (StringArray)sorted.Column(TableDefinition.SymbolColumn);
        var start = 0;
        while (start < sorted.Length)
        {
            var end = Math.Min(sorted.Length, start + target);
            if (sorted.Length - end < target / 2)
            {
                end = sorted.Length;
            }
            else
            {
                // Forward to the next symbol boundary, so a symbol's rows of a band stay in one file.
                while (end < sorted.Length && symbols.GetBytes(end).SequenceEqual(symbols.GetBytes(end - 1)))
                {
                    end++;
                }
            }
            yield return sorted.Slice(start, end - start);
            start = end;
        }
    }
}
