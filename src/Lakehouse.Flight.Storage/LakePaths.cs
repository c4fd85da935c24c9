using System.Globalization;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// Every path of the lake, built only from validated symbols and source names: the table folders (views of the
/// current files), the file store and commit log under <c>_metadata/</c>, and the seed layout's paths (exports and
/// migrations).
/// </summary>
public sealed class LakePaths
{
    public const string DataFileName = "data.parquet";

    public LakePaths(string dataDir)
    {
        if (string.IsNullOrWhiteSpace(dataDir))
        {
            throw LakehouseException.Invalid("data dir is empty: pass --data-dir or set LAKEHOUSE_DATA_DIR");
        }
        DisplayRoot = dataDir.TrimEnd('/', '\\');
        Root = Path.GetFullPath(dataDir);
    }

    /// <summary>Absolute path of the data dir.</summary>
    public string Root { get; }

    /// <summary>The data dir as the user gave it; used in report locations (<c>data/silver/prices_daily</c>).</summary>
    public string DisplayRoot { get; }

    public string MetadataDir => Path.Combine(Root, "_metadata");
    public string ManifestDir => Path.Combine(MetadataDir, "manifests");
    public string LockDir => Path.Combine(MetadataDir, "locks");

    /// <summary>The commit log: one entry per version, checkpoints (docs/architecture.md "The commit log").</summary>
    public string LogDir => Path.Combine(MetadataDir, "log");

    /// <summary>Commits a recovery pass rolled forward whose follow-up (gold) is not done yet (<see cref="LakeStore.RecoveredCommits"/>).</summary>
    public string RecoveredDir => Path.Combine(MetadataDir, "recovered");

    /// <summary>The write-ahead log of uploads acknowledged before they are applied.</summary>
    public string WalDir => Path.Combine(MetadataDir, "wal");

    /// <summary>A table's folder: the current data files (what DuckDB, pyarrow and Spark read).</summary>
    public string LayerTableDir(TableDefinition table) => Path.Combine(Root, Layers.Name(table.Layer), table.Name);

    /// <summary>The seed layout's folder of a table (or of one source of a per-source table) under <paramref name="root"/>.</summary>
    public static string SeedTableDir(string root, TableId t)
    {
        var dir = Path.Combine(root, Layers.Name(t.Layer), t.Table);
        return t.Source is null ? dir : Path.Combine(dir, "source=" + HivePath.Escape(t.Source));
    }

    /// <summary>The seed layout's <c>symbol=S[/year=Y[/month=M]]/data.parquet</c> as the table is partitioned, under <paramref name="root"/>.</summary>
    public static string SeedPartitionFile(string root, TableId t, PartitionKey key)
    {
        var dir = Path.Combine(SeedTableDir(root, t), "symbol=" + HivePath.Escape(Symbols.Normalize(key.Symbol)));
        if (t.Definition.Partitioning != Partitioning.Symbol)
        {
            dir = Path.Combine(dir, "year=" + key.Year.ToString(CultureInfo.InvariantCulture));
        }
        if (t.Definition.Partitioning == Partitioning.SymbolYearMonth)
        {
            dir = Path.Combine(dir, "month=" + key.Month.ToString(CultureInfo.InvariantCulture));
        }
        return Path.Combine(dir, DataFileName);
    }

    public string ManifestFile(TableDefinition table) => ManifestFile(table.Layer, table.Name);

    public string ManifestFile(Layer layer, string table) => Path.Combine(ManifestDir, $"{Layers.Name(layer)}_{table}.jsonl");

    public string GoldReportsDir => Path.Combine(Root, "gold", "reports");

    /// <summary>The location string written into reports: the table's folder (<c>data/silver/prices_daily</c>).</summary>
    public string Location(TableDefinition t) => DisplayRoot.Replace('\\', '/') + "/" + Layers.Name(t.Layer) + "/" + t.Name;
}
