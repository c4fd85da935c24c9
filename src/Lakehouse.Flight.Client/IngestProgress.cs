namespace Lakehouse.Flight.Client;

/// <summary>Progress of a long action, as the server streams it.</summary>
/// <param name="Done">Symbols finished.</param>
/// <param name="Total">Symbols in the run.</param>
/// <param name="Rows">Rows written so far.</param>
public sealed record IngestProgress(int Done, int Total, long Rows);
