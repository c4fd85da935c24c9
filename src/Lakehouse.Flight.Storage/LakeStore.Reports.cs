using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Storage;

public sealed partial class LakeStore
{
    /// <summary>
    /// Writes <c>gold/reports/<paramref name="fileName"/></c> whole (a temp file beside it, flushed, renamed
    /// over it, the folder fsynced), so a reader opening the report every morning sees the old file or the
    /// new one, never a torn one. A file whose bytes already equal <paramref name="content"/> is left alone
    /// (its timestamp says when the report last changed). Returns whether the file was written.
    /// </summary>
    /// <param name="fileName">A plain file name (no folder, not starting with '.'), e.g. <c>AAPL_daily_report.csv</c>.</param>
    /// <param name="content">The whole file.</param>
    /// <param name="cancellationToken">Checked before the write starts; a write under way completes.</param>
    /// <remarks>
    /// Reports are not part of a table commit: two writers rebuilding one symbol at the same moment leave
    /// the report of whichever renamed last, and the next rebuild of that symbol brings it in step again.
    /// </remarks>
    public async Task<bool> WriteReportAsync(string fileName, ReadOnlyMemory<byte> content, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrEmpty(fileName) || fileName.StartsWith('.') || Path.GetFileName(fileName) != fileName
            || fileName.AsSpan().IndexOfAny(Path.GetInvalidFileNameChars()) >= 0)
        {
            throw LakehouseException.Invalid($"report name '{fileName}' must be a plain file name such as AAPL_daily_report.csv");
        }
        var path = ReportPath(fileName);
        if (await SameBytesAsync(path, content, cancellationToken).ConfigureAwait(false))
        {
            return false;
        }
        cancellationToken.ThrowIfCancellationRequested();
        AtomicFile.Write(path, s => s.Write(content.Span));
        return true;
    }

    /// <summary>Where <see cref="WriteReportAsync"/> puts <paramref name="fileName"/>.</summary>
    public string ReportPath(string fileName) => Path.Combine(Paths.GoldReportsDir, fileName);

    private static async Task<bool> SameBytesAsync(string path, ReadOnlyMemory<byte> content, CancellationToken cancellationToken)
    {
        try
        {
            if (new FileInfo(path).Length != content.Length)
            {
                return false;
            }
            var current = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
            return content.Span.SequenceEqual(current);
        }
        catch (FileNotFoundException)
        {
            return false;
        }
        catch (DirectoryNotFoundException)
        {
            return false;
        }
    }
}
