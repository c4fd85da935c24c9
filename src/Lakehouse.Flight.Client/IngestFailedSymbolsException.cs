using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Client;

/// <summary>
/// An <c>ingest</c> run in which some symbols failed: not fetched (a vendor error, an unknown symbol), or committed
/// with their gold left stale (the reason says to rebuild gold). What was committed is in <see cref="Reports"/> and
/// stays; <see cref="Failed"/> says which symbols failed and why.
/// </summary>
public sealed class IngestFailedSymbolsException : Exception
{
    /// <summary>Creates the exception for a run's committed reports and its failed symbols.</summary>
    /// <param name="reports">The StorageReports of the symbols that were committed.</param>
    /// <param name="failed">The symbols that failed, with the server's reason for each.</param>
    public IngestFailedSymbolsException(IReadOnlyList<StorageReport> reports, IReadOnlyList<FailedSymbol> failed)
        : base($"{failed.Count} symbol(s) failed ({string.Join("; ", failed.Take(5).Select(f => $"{f.Symbol}: {f.Error}"))}"
            + $"{(failed.Count > 5 ? "; ..." : "")}); what was committed is in Reports ({reports.Count} report(s))")
    {
        Reports = reports;
        Failed = failed;
    }

    /// <summary>The StorageReports of what the run committed (bronze, then silver).</summary>
    public IReadOnlyList<StorageReport> Reports { get; }

    /// <summary>The symbols that failed, and why.</summary>
    public IReadOnlyList<FailedSymbol> Failed { get; }
}
