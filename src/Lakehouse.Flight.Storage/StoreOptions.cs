using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage;

/// <summary>Storage settings (bound from <c>Lakehouse:*</c> configuration by the server).</summary>
public sealed class StoreOptions
{
    /// <summary>The lake's root folder. Default <c>./data</c>.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>Memory for decoded rows (symbol entries, runs, row groups); 0 turns the cache off. Default 2 GiB.</summary>
    public long CacheBytes { get; set; } = 2L << 30;

    /// <summary>How long a writer waits for a table's writer lock held by another writer.</summary>
    public TimeSpan LockTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Reads coalesce small slices (symbols with few rows in range) into batches of up to this many rows.</summary>
    public int TargetBatchRows { get; set; } = 64 * 1024;

    /// <summary>Rows per commit when an acknowledged upload is applied (whole symbols; readers see each commit whole).</summary>
    public int UploadApplyChunkRows { get; set; } = 1 << 20;

    /// <summary>
    /// Memory for uploads acknowledged before they are applied that reads include from the acknowledgement
    /// on (the queryable buffer: silver and other one-row-per-key tables); an upload that does not fit is
    /// visible once applied. 0 turns the buffer off. Default 512 MiB (about 6M daily bars).
    /// </summary>
    public long PendingUploadBytes { get; set; } = 512L << 20;

    /// <summary>
    /// How long superseded data files (of versions a newer commit replaced) are kept for reads of older versions
    /// before a vacuum deletes them. Default 30 days.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>The tables of the lake (the product's tables unless a caller declares more).</summary>
    public TableCatalog Catalog { get; set; } = TableCatalog.Default;

    /// <summary>
    /// The sweep of files no version names (a listing of the file store, after the index load)
    /// waits for <see cref="LakeStore.AllowTempSweep"/>. The server sets it and allows the sweep once its cache
    /// warm-up is done. Default false: the sweep follows the walk.
    /// </summary>
    public bool DeferTempSweep { get; set; }

    /// <summary>
    /// Test hook: awaited by the background open before the index load (the data files' directories) starts, so a test can hold
    /// a store (and a server) in its warming state.
    /// </summary>
    internal Func<Task>? BeforeIndexLoad { get; set; }

    /// <summary>
    /// Test hook: the weight of entries after which a checkpoint is written even between the every-100-versions ones
    /// (<see cref="Internal.Committer.CheckpointWeight"/>, the default).
    /// </summary>
    internal long CheckpointWeight { get; set; } = Internal.Committer.CheckpointWeight;
}
