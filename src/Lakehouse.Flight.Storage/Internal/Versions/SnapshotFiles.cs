using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>A named snapshot as stored: the version it pins per table (<c>_metadata/snapshots/&lt;name&gt;.json</c>).</summary>
internal sealed record SnapshotRecord
{
    [JsonPropertyName("name")] public required string Name { get; init; }

    [JsonPropertyName("created")] public DateTimeOffset Created { get; init; }

    /// <summary>The lake version the snapshot was taken at (or the version it was asked for).</summary>
    [JsonPropertyName("version")] public long Version { get; init; }

    /// <summary>Per table id (<c>silver/prices_daily</c>), the version a read of the snapshot sees.</summary>
    [JsonPropertyName("tables")]
    public IReadOnlyDictionary<string, long> Tables { get; init; } = new Dictionary<string, long>();
}

/// <summary>
/// The named snapshots, one small JSON file each under <c>_metadata/snapshots/</c>, written whole (temp file, fsync,
/// rename, folder fsync): a crash leaves the snapshot or nothing, never a torn one (a dead writer's temp file is
/// skipped here). Creating and deleting run under the lake's <c>snapshots</c> lock, which a vacuum holds too, so a
/// vacuum never expires a file a snapshot being created is about to pin.
/// </summary>
internal sealed class SnapshotFiles(string dir)
{
    public const string LockKey = "snapshots";

    public string Dir { get; } = dir;

    public string PathOf(string name) => Path.Combine(Dir, name + ".json");

    public SnapshotRecord? Read(string name)
    {
        var path = PathOf(name);
        return File.Exists(path) ? LogJson.Deserialize<SnapshotRecord>(File.ReadAllBytes(path)) : null;
    }

    /// <summary>Every snapshot, by name.</summary>
    public IReadOnlyList<SnapshotRecord> List()
    {
        if (!Directory.Exists(Dir))
        {
            return [];
        }
        var list = new List<SnapshotRecord>();
        foreach (var path in Directory.EnumerateFiles(Dir, "*.json"))
        {
            if (Path.GetFileName(path).StartsWith(DurableFile.TempPrefix, StringComparison.Ordinal))
            {
                continue;
            }
            list.Add(LogJson.Deserialize<SnapshotRecord>(File.ReadAllBytes(path)));
        }
        return [.. list.OrderBy(s => s.Name, StringComparer.Ordinal)];
    }

    /// <summary>Writes a new snapshot whole (callers hold the lock and checked that the name is free).</summary>
    public void Write(SnapshotRecord snapshot)
    {
        Directory.CreateDirectory(Dir);
        AtomicFile.WriteAllBytes(PathOf(snapshot.Name), LogJson.Serialize(snapshot));
    }

    /// <summary>Deletes a snapshot; false when there is none of that name.</summary>
    public bool Delete(string name)
    {
        var path = PathOf(name);
        if (!File.Exists(path))
        {
            return false;
        }
        File.Delete(path);
        DurableFile.FsyncDirectory(Dir);
        return true;
    }
}
