using Apache.Arrow;

namespace Lakehouse.Flight.Client;

/// <summary>One dataset the server serves, with its schema and row count.</summary>
/// <param name="Layer">The layer, e.g. <c>silver</c>.</param>
/// <param name="Table">The table, e.g. <c>prices_daily</c>.</param>
/// <param name="Schema">The columns DoGet returns for the dataset.</param>
/// <param name="TotalRecords">Rows in the dataset.</param>
public sealed record DatasetInfo(string Layer, string Table, Schema Schema, long TotalRecords);
