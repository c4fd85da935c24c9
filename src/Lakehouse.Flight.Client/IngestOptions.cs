namespace Lakehouse.Flight.Client;

/// <summary>An ingestion run through the server's <c>ingest</c> action.</summary>
public sealed class IngestOptions
{
    /// <summary>Where bars come from: <c>synthetic</c>, <c>yahoo</c> or <c>csv</c> (the server's sources).</summary>
    public string Source { get; set; } = "synthetic";

    /// <summary>Symbols to ingest.</summary>
    public IReadOnlyList<string> Symbols { get; set; } = [];

    /// <summary>First date, inclusive; unset for no lower bound (all of a CSV file, the source's default range otherwise).</summary>
    public DateOnly From { get; set; }

    /// <summary>Last date, inclusive; unset for no upper bound.</summary>
    public DateOnly To { get; set; }

    /// <summary>Also upsert into silver (default true).</summary>
    public bool Promote { get; set; } = true;

    /// <summary>A file or folder on the server (the <c>csv</c> source); null for the others.</summary>
    public string? Path { get; set; }

    /// <summary>Seed of the synthetic source (0 = the server's default).</summary>
    public long Seed { get; set; }
}
