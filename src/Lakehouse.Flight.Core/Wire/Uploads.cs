using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

/// <summary>
/// The PutResult of a DoPut with <c>"wait": false</c> (or one applied before answering because the read buffer
/// could not hold it): the run to follow with <c>upload-status</c>. A waited DoPut answers with StorageReports.
/// </summary>
/// <param name="RunId">The run the upload is applied under.</param>
/// <param name="State"><c>durable</c> (in the write-ahead log) or <c>applied</c>.</param>
/// <param name="Applied">Written to the lake's files already.</param>
/// <param name="Visible">Queries of silver return its rows already.</param>
/// <param name="Rows">Rows received.</param>
/// <param name="Symbols">Distinct symbols among them.</param>
/// <param name="Tables">The tables it lands in, e.g. <c>bronze/prices_daily</c>.</param>
/// <param name="Follow">How to wait for it, in words.</param>
public sealed record PutAcknowledgement(
    [property: JsonPropertyName("run_id")] string RunId,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("applied")] bool Applied,
    [property: JsonPropertyName("visible")] bool Visible,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("symbols")] int Symbols,
    [property: JsonPropertyName("tables")] IReadOnlyList<string> Tables,
    [property: JsonPropertyName("follow")] string Follow);

/// <summary>One symbol of a GetFlightInfo plan (the FlightInfo's app_metadata is a JSON array of these).</summary>
public sealed record PlanEntry(
    [property: JsonPropertyName("symbol")] string Symbol,
    [property: JsonPropertyName("rows")] long Rows,
    [property: JsonPropertyName("files")] int Files);
