using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// The queryable buffer (docs/decisions.md D27): an upload acknowledged from the write-ahead log is read
/// from memory until its symbols are committed, merged over the table's rows with the applier's own merge
/// (<see cref="UpsertMerge.Upsert"/>, the same validation, lineage and key order), so a read before the
/// commit returns what a read after it returns.
/// </summary>
public sealed partial class LakeStore
{
    private readonly PendingRows _pending;

    /// <summary>Bytes of acknowledged uploads held for reads until applied.</summary>
    public long PendingUploadBytes => _pending.Bytes;

    /// <summary>
    /// Puts a logged upload in the buffer (before the applier can see it, so its rows never outlive their
    /// commit there). False when no target is covered or it does not fit: then it is visible once applied.
    /// </summary>
    private bool HoldForReads(WalHeader header, long ticks, IReadOnlyList<RecordBatch>? batches, SymbolRuns? runs, long bytes)
    {
        if (batches is null || runs is null || batches.Count == 0)
        {
            return false;
        }
        var targets = new List<(TableId, string?)>();
        foreach (var t in header.Targets)
        {
            var def = Catalog.Get(Layers.Parse(t.Layer), t.Table);
            if (PendingRows.Covers(def))
            {
                targets.Add(Resolve(def, t.Source));
            }
        }
        if (targets.Count == 0 || bytes > _pending.BudgetBytes - _pending.Bytes)
        {
            return false;
        }
        var upload = new PendingUpload(header.RunId, ticks, header.Ts, [.. batches], targets, runs.Runs, bytes);
        // A read resolving its symbols meanwhile starts again: it sees all of the upload or none of it.
        return _snapshot.ChangePending(() => _pending.TryAdd(upload));
    }

    /// <summary>The upload leaves the buffer whole (applied, or set aside as failed), as one change to readers.</summary>
    private void DropPending(string runId)
    {
        // Uploads never held (buffer off, over budget, bronze only) leave readers alone.
        if (_pending.Find(runId) is not null)
        {
            _snapshot.ChangePending(() => _pending.Remove(runId));
        }
    }

    /// <summary>
    /// One symbol's pending rows in the table's shape: stamped as the applier stamps them (run id, the
    /// acknowledgement's time, the upload's source), rows the table's validator refuses left out (the
    /// applier counts them as rejected), sorted by key.
    /// </summary>
    private static RecordBatch BuildPending(PendingUpload upload, (TableId Table, string? Source) target, List<RowRun> runs)
    {
        var def = target.Table.Definition;
        // A symbol sent as one run of rows (the usual shape of an upload) is a zero-copy slice.
        var raw = runs.Count == 1
            ? upload.Batches[runs[0].Batch].Slice(runs[0].Start, runs[0].Length)
            : ArrowRows.Take(upload.Batches[0].Schema, upload.Batches,
                runs.SelectMany(r => Enumerable.Range(r.Start, r.Length).Select(i => new RowRef(r.Batch, i))).ToArray());
        var rows = IncomingRows.Prepare(def, raw, target.Source, upload.RunId, upload.Ts);
        if (def.Validator is { } validate)
        {
            var today = DateOnly.FromDateTime(DateTime.UtcNow);
            var keep = new List<RowRef>(rows.Length);
            for (var r = 0; r < rows.Length; r++)
            {
                if (validate(rows, r, today) is null)
                {
                    keep.Add(new RowRef(0, r));
                }
            }
            if (keep.Count < rows.Length)
            {
                rows = ArrowRows.Take(def.Schema, [rows], keep.ToArray());
            }
        }
        if (def.Key.Count == 2 && InDateOrder(rows, def))
        {
            // Keys are unique within an upload (checked before the acknowledgement): sorted already.
            return rows;
        }
        // Inserting into nothing sorts by key: the order a read of the table has.
        return UpsertMerge.Upsert(def, null, rows).Merged ?? RecordBatches.Empty(def.Schema);
    }

    private static bool InDateOrder(RecordBatch rows, TableDefinition def)
    {
        var dates = ((Date32Array)rows.Column(def.Schema.GetFieldIndex(def.DateColumn, StringComparer.Ordinal))).Values;
        for (var i = 1; i < dates.Length; i++)
        {
            if (dates[i] <= dates[i - 1])
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>The symbol's pending rows per upload (oldest first) within [from, to]; empty when none.</summary>
    private List<RecordBatch> PendingOf(TableId table, string symbol, int? from, int? to)
    {
        var found = new List<RecordBatch>();
        if (_pending.IsEmpty)
        {
            return found;
        }
        var dateColumn = table.Definition.Schema.GetFieldIndex(table.Definition.DateColumn, StringComparer.Ordinal);
        foreach (var upload in _pending.For(table))
        {
            RecordBatch? rows;
            try
            {
                rows = upload.RowsOf(table, symbol, BuildPending);
            }
            catch (Exception ex) when (ex is not OperationCanceledException and not OutOfMemoryException)
            {
                // Rows the checks let through but that cannot be read as the table's: never fail every read for them.
                // The upload is readable once applied (the applier reports what it refuses).
                StorageLog.UploadApplyFailed(_logger, $"upload {upload.RunId} left the read buffer: {ex.Message}", 0);
                DropPending(upload.RunId);
                continue;
            }
            if (rows is { Length: > 0 } && ArrowConcat.SliceByDate(rows, dateColumn, from, to) is { Length: > 0 } slice)
            {
                found.Add(slice);
            }
        }
        return found;
    }

    /// <summary>The table's rows of the range with the pending uploads merged over them, in acknowledgement order.</summary>
    private static RecordBatch MergePending(TableDefinition def, IReadOnlyList<RecordBatch> committed, IReadOnlyList<RecordBatch> pending)
    {
        if (committed.Count == 0 && pending.Count == 1)
        {
            // A symbol only the upload has: its rows are in key order already.
            return pending[0];
        }
        var merged = committed.Count switch
        {
            0 => null,
            1 => committed[0],
            _ => ArrowConcat.ConcatenateManaged(committed),
        };
        foreach (var rows in pending)
        {
            merged = UpsertMerge.Upsert(def, merged, rows).Merged ?? merged;
        }
        return merged ?? RecordBatches.Empty(def.Schema);
    }

    /// <summary>The applier committed these symbols of the upload: reads take them from the table now.</summary>
    private void PendingApplied(string runId, IEnumerable<string> symbols)
    {
        if (!_pending.IsEmpty)
        {
            _pending.Find(runId)?.Applied(symbols);
        }
    }
}
