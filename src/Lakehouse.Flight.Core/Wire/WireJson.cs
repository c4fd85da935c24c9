using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Core.Wire;

/// <summary>
/// The JSON of every action, DoPut, FlightInfo and HTTP result and of the SDK's request bodies: the server
/// writes and the SDK reads through this one source-generated context, so a name is spelt in one place (the
/// records' <c>JsonPropertyName</c>).
/// </summary>
[JsonSerializable(typeof(StorageReport))]
[JsonSerializable(typeof(IReadOnlyList<StorageReport>))]
[JsonSerializable(typeof(ProgressMessage))]
[JsonSerializable(typeof(FailedSymbols))]
[JsonSerializable(typeof(UploadStatusResult))]
[JsonSerializable(typeof(IReadOnlyList<TableStats>))]
[JsonSerializable(typeof(MigrateLegacyResult))]
[JsonSerializable(typeof(HealthReport))]
[JsonSerializable(typeof(PutAcknowledgement))]
[JsonSerializable(typeof(JobStatus))]
[JsonSerializable(typeof(IReadOnlyList<JobStatus>))]
[JsonSerializable(typeof(IReadOnlyList<PlanEntry>))]
[JsonSerializable(typeof(UploadCommandBody))]
[JsonSerializable(typeof(UploadStatusBody))]
[JsonSerializable(typeof(IngestBody))]
[JsonSerializable(typeof(PromoteBody))]
[JsonSerializable(typeof(ManifestBody))]
[JsonSerializable(typeof(TableVersionInfo))]
[JsonSerializable(typeof(IReadOnlyList<TableVersionInfo>))]
[JsonSerializable(typeof(SnapshotInfo))]
[JsonSerializable(typeof(IReadOnlyList<SnapshotInfo>))]
[JsonSerializable(typeof(VacuumReport))]
[JsonSerializable(typeof(SnapshotDeleted))]
internal sealed partial class WireJson : JsonSerializerContext;

/// <summary>StorageReport's timestamp form (manifests and every result): <c>2026-11-26T16:00:00.000Z</c>; any ISO form is read.</summary>
internal sealed class UtcMillisecondsConverter : JsonConverter<DateTimeOffset>
{
    /// <summary>Any ISO-8601 instant; one without an offset is UTC. Anything else is a <see cref="JsonException"/>, as every other bad value.</summary>
    public override DateTimeOffset Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
        reader.TokenType == JsonTokenType.String && DateTimeOffset.TryParse(reader.GetString(), System.Globalization.CultureInfo.InvariantCulture,
            System.Globalization.DateTimeStyles.AssumeUniversal | System.Globalization.DateTimeStyles.AdjustToUniversal, out var value)
            ? value
            : throw new JsonException($"expected an ISO-8601 instant, got {(reader.TokenType == JsonTokenType.String ? $"'{reader.GetString()}'" : reader.TokenType.ToString())}");

    public override void Write(Utf8JsonWriter writer, DateTimeOffset value, JsonSerializerOptions options) =>
        writer.WriteStringValue(value.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", System.Globalization.CultureInfo.InvariantCulture));
}
