namespace Lakehouse.Flight.Client;

/// <summary>An upload the server holds durably and applies in the background.</summary>
/// <param name="RunId">The run it is applied under: its manifest lines carry it; pass it to <see cref="LakehouseClient.WaitForUploadAsync"/>.</param>
/// <param name="Rows">Rows the server received.</param>
/// <param name="Symbols">Distinct symbols among them.</param>
/// <param name="Visible">Queries of silver return its rows already (the server holds them in memory until applied); false: once applied.</param>
public sealed record UploadAcknowledgement(string RunId, long Rows, int Symbols, bool Visible);
