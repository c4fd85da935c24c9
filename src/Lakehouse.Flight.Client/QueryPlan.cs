using Apache.Arrow;

namespace Lakehouse.Flight.Client;

/// <summary>What a query will read: its schema, exact row count and the symbols (one Flight endpoint each).</summary>
/// <param name="Schema">Output schema (projection applied).</param>
/// <param name="TotalRecords">Exact number of rows.</param>
/// <param name="Symbols">Symbols that have rows, in output order.</param>
public sealed record QueryPlan(Schema Schema, long TotalRecords, IReadOnlyList<string> Symbols);
