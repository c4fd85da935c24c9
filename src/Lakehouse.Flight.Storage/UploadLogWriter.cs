using Apache.Arrow;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Storage.Internal;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// An upload streaming into the write-ahead log (<see cref="LakeStore.BeginUpload"/>): <see cref="Add"/>
/// checks each batch against every target table and appends it; <see cref="CommitAsync"/> makes the entry
/// durable and hands it to the applier. Disposed without a commit, it deletes what it wrote.
/// </summary>
public sealed class UploadLogWriter : IDisposable
{
    private readonly LakeStore _store;
    private readonly WriteAheadLog.EntryWriter _entry;
    private readonly WalHeader _header;
    private readonly (TableDefinition Table, string? Source)[] _targets;
    /// <summary>Keys across all batches, per target; null where a target has the first one's key (same rows, same keys).</summary>
    private readonly KeyTracker?[] _keys;
    private long _rows;
    private long _bytes;
    private bool _done;
    /// <summary>The batches, kept for the queryable buffer while they fit its budget (null: not kept).</summary>
    private List<RecordBatch>? _kept;
    private SymbolRuns? _runs;

    internal UploadLogWriter(LakeStore store, WriteAheadLog.EntryWriter entry, WalHeader header, (TableDefinition, string?)[] targets)
    {
        _store = store;
        _entry = entry;
        _header = header;
        _targets = targets;
        _keys = targets.Select((t, i) => i == 0 || !t.Item1.Key.SequenceEqual(targets[0].Item1.Key) ? new KeyTracker() : null).ToArray();
        if (targets.Any(t => PendingRows.Covers(t.Item1)) && store.Options.PendingUploadBytes > 0)
        {
            _kept = [];
            _runs = new SymbolRuns();
        }
    }

    /// <summary>The run the upload will be applied under.</summary>
    public string RunId => _header.RunId;

    /// <summary>Rows added so far.</summary>
    public long Rows => _rows;

    /// <summary>Checks <paramref name="rows"/> (columns, types, nulls, symbols, keys across all batches so far) and appends them.</summary>
    /// <exception cref="LakehouseException">Rows that do not fit a table; a full disk.</exception>
    public void Add(RecordBatch rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        ObjectDisposedException.ThrowIf(_done, this);
        if (rows.Length == 0)
        {
            return;
        }
        // Columns per table; keys once per distinct key (bronze and silver prices share theirs).
        for (var i = 0; i < _targets.Length; i++)
        {
            IncomingRows.Check(_targets[i].Table, rows, _targets[i].Source, _keys[i]);
        }
        var bytes = rows.Arrays.Sum(a => a.Data.Buffers.Sum(b => (long)b.Length)) + 1024;
        try
        {
            if (StorageFaults.FreeBytes(_store.Paths.Root) is { } free && free < bytes + StorageFaults.Margin)
            {
                throw StorageFaults.DiskFull(_bytes + bytes + StorageFaults.Margin, free);
            }
            _entry.Write(rows);
        }
        catch (Exception ex) when (StorageFaults.Translate(ex, _bytes + bytes, _store.Paths.Root) is { } user)
        {
            throw user;
        }
        _rows += rows.Length;
        _bytes += bytes;
        if (_kept is not null)
        {
            // Past the buffer's budget the upload is visible once applied: no need to hold its rows.
            if (_bytes > _store.Options.PendingUploadBytes - _store.PendingUploadBytes)
            {
                _kept = null;
                _runs = null;
            }
            else
            {
                _kept.Add(rows);
                _runs!.Add(rows);
            }
        }
    }

    /// <summary>
    /// Makes the entry durable (one fsync of the file, one of its folder) and queues it; the upload is
    /// acknowledged from here, and reads of silver include it from here when it fits the queryable buffer
    /// (<see cref="UploadReceipt.Visible"/>).
    /// </summary>
    /// <exception cref="LakehouseException">Nothing was added; a full disk.</exception>
    public Task<UploadReceipt> CommitAsync(CancellationToken cancellationToken = default)
    {
        ObjectDisposedException.ThrowIf(_done, this);
        if (_rows == 0)
        {
            throw LakehouseException.Invalid("an upload acknowledged before it is applied needs at least one row");
        }
        cancellationToken.ThrowIfCancellationRequested();
        try
        {
            _entry.Complete();
        }
        catch (Exception ex) when (StorageFaults.Translate(ex, _bytes, _store.Paths.Root) is { } user)
        {
            throw user;
        }
        _done = true;
        var (kept, runs) = (_kept, _runs);
        (_kept, _runs) = (null, null);
        return Task.FromResult(_store.QueueDurableUpload(WriteAheadLog.Parse(_entry.Path)!, _header, _rows, _keys[0]!.Symbols, kept, runs, _bytes));
    }

    public void Dispose()
    {
        if (!_done)
        {
            _done = true;
            _entry.Dispose();
            LakeStore.ReleaseOwnedEntry(_entry.Path);
        }
    }
}
