using Apache.Arrow.Ipc;

namespace Lakehouse.Flight.Core;

/// <summary>
/// The IPC body compression a reader asks for: a ticket's <c>"compression"</c> field or the HTTP stream's
/// <c>?compression=</c>. Names follow the Arrow IPC spec's codecs (LZ4_FRAME, ZSTD); pyarrow reads both.
/// </summary>
public static class IpcCompression
{
    /// <summary>Null (uncompressed) for empty or <c>none</c>; LZ4_FRAME for <c>lz4</c>/<c>lz4_frame</c>; ZSTD for <c>zstd</c>.</summary>
    public static CompressionCodecType? Parse(string? name) =>
        (name ?? "").Trim().ToLowerInvariant() switch
        {
            "" or "none" => null,
            "lz4" or "lz4_frame" => CompressionCodecType.Lz4Frame,
            "zstd" => CompressionCodecType.Zstd,
            var other => throw LakehouseException.Invalid($"unknown compression '{other}': use none, lz4 or zstd"),
        };

    public static string Name(CompressionCodecType? codec) => codec switch
    {
        CompressionCodecType.Lz4Frame => "lz4",
        CompressionCodecType.Zstd => "zstd",
        _ => "none",
    };
}
