using System.Text;
using System.Text.Json;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Legacy.Internal;

/// <summary>
/// Copies the prototype's manifest lines into <c>_metadata/manifests/legacy_prices_ingestion.jsonl</c>:
/// lines already there are not copied again (a rerun copies nothing), a torn last line (a crash in
/// the middle of an append) is left out and reported, the file is replaced whole (temp file, flush, rename).
/// </summary>
internal static class LegacyManifestCopy
{
    public const string FileName = "legacy_prices_ingestion.jsonl";

    public static ManifestCopyResult Copy(string? legacyManifest, string manifestDir, bool dryRun)
    {
        var target = Path.Combine(manifestDir, FileName);
        if (legacyManifest is null || !File.Exists(legacyManifest))
        {
            return new ManifestCopyResult(legacyManifest, target, 0, 0, 0, false);
        }
        var text = File.ReadAllText(legacyManifest, Encoding.UTF8);
        var lines = text.Split('\n');
        var torn = false;
        var bad = 0;
        var good = new List<string>();
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }
            if (IsJsonObject(line))
            {
                good.Add(line);
            }
            else if (i == lines.Length - 1)
            {
                // The last line with no newline after it, and not JSON: an append cut short.
                torn = true;
            }
            else
            {
                bad++;
            }
        }
        var existing = File.Exists(target) ? File.ReadAllLines(target, Encoding.UTF8) : [];
        var have = existing.ToHashSet(StringComparer.Ordinal);
        var fresh = good.Where(have.Add).ToList();
        if (!dryRun && fresh.Count > 0)
        {
            Directory.CreateDirectory(manifestDir);
            var temp = target + ".tmp-" + Guid.NewGuid().ToString("N")[..8];
            try
            {
                using (var f = new FileStream(temp, FileMode.CreateNew, FileAccess.Write))
                using (var w = new StreamWriter(f, new UTF8Encoding(false)))
                {
                    foreach (var l in existing.Where(l => l.Length > 0).Concat(fresh))
                    {
                        w.Write(l);
                        w.Write('\n');
                    }
                    w.Flush();
                    f.Flush(flushToDisk: true);
                }
                File.Move(temp, target, overwrite: true);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                // A full or read-only disk: no half copy is left, and the error says so in the lake's words (no path).
                try
                {
                    File.Delete(temp);
                }
                catch (Exception cleanup) when (cleanup is IOException or UnauthorizedAccessException)
                {
                }
                throw Storage.LakeFaults.Translate(ex, "the copied legacy manifest") ?? throw new IOException("the legacy manifest copy failed", ex);
            }
        }
        return new ManifestCopyResult(legacyManifest, target, fresh.Count, good.Count - fresh.Count, bad, torn);
    }

    private static bool IsJsonObject(string line)
    {
        try
        {
            using var doc = JsonDocument.Parse(line);
            return doc.RootElement.ValueKind == JsonValueKind.Object;
        }
        catch (JsonException)
        {
            return false;
        }
    }
}
