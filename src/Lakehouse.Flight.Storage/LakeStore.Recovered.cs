using System.Text.Json;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage;

/// <summary>
/// A commit of a writer that died after its commit point, finished by a repair pass (at
/// <see cref="LakeStore.Open(StoreOptions, Microsoft.Extensions.Logging.ILogger?)"/>, or the server's maintenance):
/// its table folders and manifest lines are in place, but what the writer meant to do after the commit (rebuild
/// gold) never ran. <see cref="Reports"/> are the commit's manifest lines.
/// </summary>
public sealed record RecoveredCommit(string Id, IReadOnlyList<StorageReport> Reports);

public sealed partial class LakeStore
{
    /// <summary>
    /// Raised (on the recovering thread) when a recovery pass of this process recorded commits in
    /// <see cref="RecoveredCommits"/>; handlers must return at once (they may run under writer locks).
    /// </summary>
    public event Action? CommitsRecovered;

    /// <summary>
    /// Commits rolled forward by any process's recovery whose follow-up is not done yet, oldest first. They
    /// stay (in <c>_metadata/recovered/</c>) until <see cref="SettleRecovered"/>: a process that dies before
    /// finishing them leaves them for the next one (the server finishes them at start-up and when signalled).
    /// </summary>
    public IReadOnlyList<RecoveredCommit> RecoveredCommits()
    {
        if (!Directory.Exists(Paths.RecoveredDir))
        {
            return [];
        }
        var commits = new List<RecoveredCommit>();
        foreach (var file in Directory.EnumerateFiles(Paths.RecoveredDir, "*.json").Order(StringComparer.Ordinal))
        {
            if (AtomicFile.IsTemp(file))
            {
                continue;
            }
            try
            {
                var lines = JsonSerializer.Deserialize<string[]>(File.ReadAllBytes(file)) ?? [];
                var reports = lines.Select(StorageReport.FromJson).OfType<StorageReport>().ToArray();
                commits.Add(new RecoveredCommit(Path.GetFileNameWithoutExtension(file), reports));
            }
            catch (Exception ex) when (ex is JsonException or FileNotFoundException)
            {
                // Settled by another process meanwhile, or not ours to read: records are written whole.
            }
        }
        return commits;
    }

    /// <summary>True when <see cref="RecoveredCommits"/> has something to finish (one folder listing).</summary>
    public bool HasRecoveredCommits =>
        Directory.Exists(Paths.RecoveredDir) && Directory.EnumerateFiles(Paths.RecoveredDir, "*.json").Any(f => !AtomicFile.IsTemp(f));

    /// <summary>Forgets a recovered commit once its follow-up is done (idempotent).</summary>
    public void SettleRecovered(RecoveredCommit commit)
    {
        ArgumentNullException.ThrowIfNull(commit);
        var path = Path.Combine(Paths.RecoveredDir, commit.Id + ".json");
        try
        {
            File.Delete(path);
        }
        catch (Exception ex) when (LakeFaults.Translate(ex, "the recovered commit's record") is { } fault)
        {
            throw fault;
        }
    }

    /// <summary>
    /// The repair's record of a commit whose writer died before its manifest lines (so before its gold): the lines,
    /// durable before the repair appends them, so a crash of the repair still leaves the follow-up to do.
    /// </summary>
    private void RecordRecovered(Internal.LogEntry entry)
    {
        var lines = entry.Reports.Select(r => r.ToJson()).ToArray();
        if (lines.Length == 0)
        {
            return;
        }
        AtomicFile.WriteAllBytes(Path.Combine(Paths.RecoveredDir, $"v{entry.Version:D20}.json"), JsonSerializer.SerializeToUtf8Bytes(lines));
        CommitsRecovered?.Invoke();
    }
}
