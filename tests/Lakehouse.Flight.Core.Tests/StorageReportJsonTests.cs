using System.Text.Json;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Core.Tests;

/// <summary>One timestamp form in the JSON files the lake keeps (manifests, logs, markers) and in every StorageReport: UTC with milliseconds.</summary>
public sealed class StorageReportJsonTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 26, 17, 0, 0, 123, TimeSpan.FromHours(1));

    [Fact]
    public void JsonOptions_WriteEveryInstantInUtcWithMilliseconds()
    {
        // A flow-log line, the commit log and markers serialize their own records with these options.
        var json = JsonSerializer.Serialize(new { ts = At, removed_ts = (DateTimeOffset?)At }, StorageReport.JsonOptions);

        Assert.Equal("""{"ts":"2026-11-26T16:00:00.123Z","removed_ts":"2026-11-26T16:00:00.123Z"}""", json);
    }

    [Fact]
    public void Report_ThroughTheOptionsAndThroughWireJson_IsTheSameLine()
    {
        var report = new StorageReport { RunId = "r1", Ts = At, Layer = "silver", Table = "prices_daily", Symbol = "AAPL", Rows = 3, Inserted = 3 };

        var line = report.ToJson();

        Assert.Contains("\"ts\":\"2026-11-26T16:00:00.123Z\"", line, StringComparison.Ordinal);
        Assert.Equal(line, JsonSerializer.Serialize(report, WireJson.Default.StorageReport));
        Assert.Equal(report, StorageReport.FromJson(line));
    }

    [Theory]
    [InlineData("\"2026-11-26T16:00:00.123\"", "2026-11-26T16:00:00.123Z")]
    [InlineData("\"2026-11-26T17:00:00.123+01:00\"", "2026-11-26T16:00:00.123Z")]
    public void JsonOptions_ReadAnIsoInstant_WithoutAnOffsetAsUtc(string json, string written)
    {
        var read = JsonSerializer.Deserialize<DateTimeOffset>(json, StorageReport.JsonOptions);

        Assert.Equal("\"" + written + "\"", JsonSerializer.Serialize(read, StorageReport.JsonOptions));
    }

    [Theory]
    [InlineData("\"yesterday\"")]
    [InlineData("null")]
    [InlineData("12")]
    public void JsonOptions_NotAnInstant_IsAJsonException(string json) =>
        Assert.Throws<JsonException>(() => JsonSerializer.Deserialize<DateTimeOffset>(json, StorageReport.JsonOptions));
}
