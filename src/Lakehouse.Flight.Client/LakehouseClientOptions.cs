namespace Lakehouse.Flight.Client;

/// <summary>Settings of a <see cref="LakehouseClient"/>.</summary>
public sealed class LakehouseClientOptions
{
    /// <summary>A static Bearer token to send on every call (instead of <see cref="LakehouseClient.AuthenticateAsync"/>).</summary>
    public string? Token { get; set; }

    /// <summary>Largest message the client accepts. Default 64 MiB.</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 << 20;

    /// <summary>
    /// The HTTP handler of the gRPC channel, e.g. a <see cref="SocketsHttpHandler"/> that trusts a
    /// private CA for <c>grpc+tls://</c>. Null uses the default handler. The client does not dispose it.
    /// </summary>
    public HttpMessageHandler? HttpHandler { get; set; }

    /// <summary>Rows per uploaded message (keeps each gRPC message around 1 MB). Default 8192.</summary>
    public int UploadBatchRows { get; set; } = 8192;

    /// <summary>
    /// IPC body compression asked of the server for reads: <c>none</c> (default), <c>lz4</c> or <c>zstd</c>.
    /// Worth it over a slow link (ZSTD cuts daily bars about 3x); on loopback it costs CPU on both sides.
    /// </summary>
    public string? Compression { get; set; }
}
