using System.Text.Json;
using System.Text.Json.Serialization;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// <c>_metadata/layout-migration.json</c>: a migration from the seed layout is under way. Created (put-if-absent)
/// before the first commit and deleted after the last step, so while it exists the store refuses to open the data
/// dir (its table folders still show the seed's month files, its log only part of them) and a re-run knows where
/// to go on: <see cref="Commit"/> (commit what is not committed yet, then verify everything), or
/// <see cref="Publish"/> (verified: move the seed's folders aside, publish the views, delete the seed's files).
/// </summary>
internal sealed record MigrationMarker
{
    public const string Commit = "commit";
    public const string Publish = "publish";

    [JsonPropertyName("id")] public required string Id { get; init; }

    [JsonPropertyName("started")] public DateTimeOffset Started { get; init; }

    [JsonPropertyName("phase")] public required string Phase { get; init; }

    /// <summary>The verification that passed (once <see cref="Publish"/>): a re-run finishing the last steps reports it.</summary>
    [JsonPropertyName("tables")] public IReadOnlyList<SeedTableMigration> Tables { get; init; } = [];

    public static MigrationMarker? Read(LakePaths paths)
    {
        var path = SeedLayout.MarkerPath(paths);
        if (!File.Exists(path))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize<MigrationMarker>(File.ReadAllBytes(path), StorageReport.JsonOptions)
                ?? throw new JsonException("empty");
        }
        catch (JsonException ex)
        {
            throw LakehouseException.InvalidData($"{Path.GetRelativePath(paths.Root, path)} is damaged ({ex.Message}); it was written whole, so the disk changed it", ex);
        }
    }

    /// <summary>Creates the marker unless another run created one first (then returns that one).</summary>
    public static MigrationMarker Create(LakePaths paths)
    {
        var marker = new MigrationMarker { Id = LakeStore.NewRunId(), Started = DateTimeOffset.UtcNow, Phase = Commit };
        var path = SeedLayout.MarkerPath(paths);
        var temp = DurableFile.WriteTemp(path, s => s.Write(JsonSerializer.SerializeToUtf8Bytes(marker, StorageReport.JsonOptions)));
        try
        {
            File.Move(temp, path, overwrite: false);
        }
        catch (IOException) when (File.Exists(path))
        {
            DurableFile.TryDelete(temp);
            return Read(paths)!;
        }
        DurableFile.FsyncDirectory(paths.MetadataDir);
        return marker;
    }

    public void Write(LakePaths paths) =>
        AtomicFile.WriteAllBytes(SeedLayout.MarkerPath(paths), JsonSerializer.SerializeToUtf8Bytes(this, StorageReport.JsonOptions));

    public static void Delete(LakePaths paths)
    {
        File.Delete(SeedLayout.MarkerPath(paths));
        DurableFile.FsyncDirectory(paths.MetadataDir);
    }
}
