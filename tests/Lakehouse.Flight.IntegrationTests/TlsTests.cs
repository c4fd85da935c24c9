using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Ingestion;

namespace Lakehouse.Flight.IntegrationTests;

public sealed class TlsTests : IDisposable
{
    private readonly string _pfx = Path.Combine(Path.GetTempPath(), $"lakehouse-tls-{Guid.NewGuid():N}.pfx");

    public void Dispose() => File.Delete(_pfx);

    [Fact]
    public async Task Certificate_Configured_ServesGrpcTlsThatTheSdkReads()
    {
        using var cert = await SelfSignedPfxAsync();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.CertificatePath = _pfx;
            o.CertificatePassword = "pw";
        });
        var bars = SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 1, 31));
        await server.Server.Store.UpsertAsync(bars).DefaultTimeout();
        string? seen = null;
        using var handler = new SocketsHttpHandler();
        handler.SslOptions.RemoteCertificateValidationCallback = (_, c, _, _) =>
        {
            seen = c?.GetCertHashString();
            return seen == cert.GetCertHashString();
        };

        using var client = new LakehouseClient(server.Endpoint, new LakehouseClientOptions { HttpHandler = handler });
        var read = await client.ReadBarsAsync(TableQuery.Create(symbols: ["AAPL"])).ToListAsync();

        Assert.Equal("grpc+tls", server.Endpoint.Scheme);
        Assert.Equal(cert.GetCertHashString(), seen);
        Assert.Equal(bars.Select(b => b.Close), read.Select(b => b.Close));
    }

    [Fact]
    public async Task Certificate_Configured_WarmUpCallsItsOwnTlsPort()
    {
        using var cert = await SelfSignedPfxAsync();
        var dir = Path.Combine(Path.GetTempPath(), "lakehouse-it", Guid.NewGuid().ToString("N"));
        await Storage.LakeStore.Open(dir).UpsertAsync(SyntheticBars.Generate(["AAPL"], new DateOnly(2024, 1, 1), new DateOnly(2024, 6, 30))).DefaultTimeout();
        await using var server = await TestServer.StartAsync(o =>
        {
            o.CertificatePath = _pfx;
            o.CertificatePassword = "pw";
            o.WarmCache = true;
        }, dataDir: dir);

        // The warm-up's client trusts exactly the certificate its own port presents (a self-signed one here).
        var done = await server.Server.ServingWarmed.DefaultTimeout();

        Assert.True(done.LoopbackCalls > 0, "no warm-up call reached the TLS port");
        Assert.Equal(done.LoopbackCalls, server.Server.Metrics.FastStreams);
    }

    /// <summary>A self-signed certificate for localhost, written to the test's PFX file (password "pw").</summary>
    private async Task<X509Certificate2> SelfSignedPfxAsync()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=localhost", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1));
        await File.WriteAllBytesAsync(_pfx, cert.Export(X509ContentType.Pfx, "pw"));
        return cert;
    }
}
