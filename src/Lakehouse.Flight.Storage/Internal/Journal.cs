using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// Makes a write that touches several files all-or-nothing. Temp files are written and flushed first;
/// the journal naming every (temp, final) pair and the manifest lines is then written atomically — that
/// is the commit point. Renames and manifest appends follow; the journal is deleted last. After a crash,
/// <see cref="Recover"/> rolls a committed journal forward, and temps no journal names are deleted.
/// </summary>
internal sealed class Journal
{
    private readonly string _dir;
    private readonly ManifestLog _manifests;

    /// <param name="dir">The journal folder.</param>
    /// <param name="manifests">Where committed manifest lines are appended.</param>
    /// <param name="root">The lake's root (one syncfs for many renames).</param>
    /// <param name="rolledForward">
    /// Called with a journal's name and manifest lines once recovery has applied it, before the journal is
    /// deleted: what it records there survives a crash right after (the store records it for gold).
    /// </param>
    public Journal(string dir, ManifestLog manifests, string root, Action<string, ManifestAppend[]>? rolledForward = null)
    {
        _dir = dir;
        _manifests = manifests;
        _root = root;
        _rolledForward = rolledForward;
    }

    private readonly string _root;
    private readonly Action<string, ManifestAppend[]>? _rolledForward;

    /// <summary>
    /// TEST ONLY: with <c>LAKEHOUSE_TEST_CRASH_AFTER_COMMIT_POINT=1</c> in its environment a process SIGKILLs
    /// itself right after its first journal is durable (the commit point), before any rename: the crash the
    /// roll-forward exists for, at a deterministic instant (tests/Lakehouse.Flight.IntegrationTests/GoldRecoveryTests).
    /// Never set it for a real server.
    /// </summary>
    internal const string CrashAfterCommitPointVariable = "LAKEHOUSE_TEST_CRASH_AFTER_COMMIT_POINT";

    private static readonly bool CrashAfterCommitPoint = Environment.GetEnvironmentVariable(CrashAfterCommitPointVariable) == "1";

    /// <summary>
    /// Journals this process is committing now, across every store it opened. A journal with our pid is
    /// not always ours to leave alone (in a container the server restarts with the pid its dead
    /// predecessor had), so recovery skips exactly these: one writer's recovery pass must never roll
    /// forward (or delete) another live writer's journal.
    /// </summary>
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, byte> InFlight = new(StringComparer.Ordinal);

    /// <summary>
    /// Commits: writes the journal (the commit point), then applies it (renames, folder fsyncs, manifest
    /// lines) and deletes it. Returns false when the write is committed but applying it failed after
    /// the commit point (a full disk on the manifest append): the journal stays and is rolled forward
    /// by the next commit or the next start, so nothing committed is lost.
    /// </summary>
    public bool Commit(IReadOnlyList<StagedFile> files, IReadOnlyList<ManifestAppend> manifests, out Exception? applyFailure)
    {
        applyFailure = null;
        if (files.Count == 0)
        {
            // Nothing to make atomic (an all-unchanged upsert): the manifest lines alone.
            foreach (var m in manifests)
            {
                _manifests.Append(m.File, m.Lines);
            }
            return true;
        }
        var record = new JournalRecord(Environment.ProcessId, [.. files], [.. manifests]);
        var path = Path.Combine(_dir, $"{Environment.ProcessId}-{Guid.NewGuid():N}.json");
        InFlight[path] = 0;
        try
        {
            // Written in place, not via temp + rename: a journal cut short by a crash is not valid JSON,
            // and recovery discards it, which is right because no rename starts before this returns.
            // Even one file is journalled: its manifest lines must follow it after a crash.
            try
            {
                using (var fs = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 4096))
                {
                    fs.Write(JsonSerializer.SerializeToUtf8Bytes(record, JournalJson.Default.JournalRecord));
                    fs.Flush(flushToDisk: true);
                }
                DurableFile.FsyncDirectory(_dir);
            }
            catch
            {
                DurableFile.TryDelete(path);
                throw;
            }
            if (CrashAfterCommitPoint)
            {
                // SIGKILL: no finally block, no flush, nothing renamed.
                System.Diagnostics.Process.GetCurrentProcess().Kill();
                Thread.Sleep(Timeout.Infinite);
            }
            try
            {
                Apply(record, recovering: false);
                File.Delete(path);
                return true;
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                applyFailure = ex;
                return false;
            }
        }
        finally
        {
            InFlight.TryRemove(path, out _);
        }
    }

    private void Apply(JournalRecord record, bool recovering)
    {
        var dirs = new HashSet<string>(StringComparer.Ordinal);
        foreach (var f in record.Files)
        {
            if (File.Exists(f.Temp))
            {
                DurableFile.CommitTemp(f.Temp, f.Final);
            }
            dirs.Add(Path.GetDirectoryName(f.Final)!);
        }
        // Many folders: one syncfs makes every rename durable. Otherwise each folder's fsync waits on the
        // disk; issued together they overlap.
        if (dirs.Count < CommitPipeline.GroupSyncFiles || !DurableFile.SyncFileSystem(_root))
        {
            Parallel.ForEach(dirs, new ParallelOptions { MaxDegreeOfParallelism = 8 }, DurableFile.FsyncDirectory);
        }
        foreach (var m in record.Manifests)
        {
            if (recovering)
            {
                _manifests.AppendMissing(m.File, m.Lines);
            }
            else
            {
                _manifests.Append(m.File, m.Lines);
            }
        }
    }

    /// <summary>The temp files the journals now in the folder name (unreadable journals name none).</summary>
    public HashSet<string> NamedTemps()
    {
        var named = new HashSet<string>(StringComparer.Ordinal);
        foreach (var path in Directory.EnumerateFiles(_dir, "*.json"))
        {
            try
            {
                if (JsonSerializer.Deserialize(File.ReadAllBytes(path), JournalJson.Default.JournalRecord) is { } record)
                {
                    named.UnionWith(record.Files.Select(f => f.Temp));
                }
            }
            catch (Exception ex) when (ex is JsonException or IOException)
            {
            }
        }
        return named;
    }

    /// <summary>
    /// Rolls forward the journals of dead processes, and this process's own journals that failed to
    /// apply after their commit point. Returns the manifest appends of those applied.
    /// </summary>
    public IReadOnlyList<ManifestAppend> Recover()
    {
        var applied = new List<ManifestAppend>();
        foreach (var path in Directory.EnumerateFiles(_dir, "*.json"))
        {
            var name = Path.GetFileNameWithoutExtension(path);
            var dash = name.IndexOf('-', StringComparison.Ordinal);
            if (dash > 0 && int.TryParse(name.AsSpan(0, dash), out var pid) && pid != Environment.ProcessId && ProcessLiveness.IsAlive(pid))
            {
                continue;
            }
            if (InFlight.ContainsKey(path))
            {
                // Another thread of this process is applying it right now.
                continue;
            }
            JournalRecord? record;
            try
            {
                record = JsonSerializer.Deserialize(File.ReadAllBytes(path), JournalJson.Default.JournalRecord);
            }
            catch (JsonException)
            {
                // A journal is written atomically; an unreadable one was never committed.
                record = null;
            }
            if (record is not null)
            {
                Apply(record, recovering: true);
                // Recorded durably before the journal goes: a crash between the two leaves the journal, and the
                // next pass records it again (same name, replaced whole).
                _rolledForward?.Invoke(name, record.Manifests);
                applied.AddRange(record.Manifests);
            }
            File.Delete(path);
        }
        return applied;
    }
}

internal sealed record StagedFile(string Temp, string Final);

internal sealed record ManifestAppend(string File, string[] Lines);

internal sealed record JournalRecord(int Pid, StagedFile[] Files, ManifestAppend[] Manifests);

[JsonSerializable(typeof(JournalRecord))]
internal sealed partial class JournalJson : JsonSerializerContext;
