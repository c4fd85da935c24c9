using System.Text.Json;
using Lakehouse.Flight.Storage;

namespace Lakehouse.Flight.Server.Jobs;

/// <summary><c>_metadata/jobs/{id}.json</c>: one record per job, replaced whole (temp + rename) at each state change.</summary>
internal sealed class JobFiles
{
    public JobFiles(LakeStore store) => Dir = Path.Combine(store.Paths.MetadataDir, "jobs");

    public string Dir { get; }

    /// <summary>Job ids are ours (<c>yyyyMMddHHmmssfff-xxxxxxxx</c>); anything else never reaches the file system.</summary>
    public static bool IsValidId(string id) =>
        id.Length is > 0 and <= 64 && id.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');

    public void Write(JobRecord record) => AtomicFile.WriteAllBytes(PathOf(record.Id), record.ToJson());

    public JobRecord? Read(string id)
    {
        if (!IsValidId(id))
        {
            return null;
        }
        try
        {
            return JobRecord.FromJson(File.ReadAllBytes(PathOf(id)));
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException or JsonException)
        {
            return null;
        }
    }

    /// <summary>Every readable record (a file torn by a crash cannot exist: records are renamed into place).</summary>
    public IEnumerable<JobRecord> ReadAll()
    {
        if (!Directory.Exists(Dir))
        {
            yield break;
        }
        foreach (var file in Directory.EnumerateFiles(Dir, "*.json"))
        {
            if (AtomicFile.IsTemp(file))
            {
                continue;
            }
            if (Read(Path.GetFileNameWithoutExtension(file)) is { } record)
            {
                yield return record;
            }
        }
    }

    private string PathOf(string id) => Path.Combine(Dir, id + ".json");
}
