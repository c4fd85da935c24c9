using Lakehouse.Flight.Core;
using Microsoft.Extensions.Configuration;

namespace Lakehouse.Flight.Server;

/// <summary>Server settings, bound from the <c>Lakehouse</c> configuration section (<c>Lakehouse:DataDir</c>, ...).</summary>
public sealed class LakehouseServerOptions
{
    public const string SectionName = "Lakehouse";

    /// <summary>The lake's root folder.</summary>
    public string DataDir { get; set; } = "data";

    /// <summary>Address to bind; forced to loopback when no credentials are configured.</summary>
    public string Host { get; set; } = "127.0.0.1";

    /// <summary>Flight (gRPC, HTTP/2) port; 0 picks a free port.</summary>
    public int FlightPort { get; set; } = 8815;

    /// <summary>HTTP API port (JSON/CSV/Arrow prices, ingestion jobs, health, OpenAPI); 0 picks a free port, -1 turns it off.</summary>
    public int HttpPort { get; set; } = 8080;

    /// <summary>Decode the whole silver table into the cache in the background at start-up.</summary>
    public bool WarmCache { get; set; } = true;

    /// <summary>
    /// How long the cache warm-up may take before <c>/health</c> can say ok: a lake larger than the cache stops being
    /// warmed then (its other symbols load on first read), so start-up to ok stays short whatever the lake's size.
    /// </summary>
    public TimeSpan WarmCacheTime { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// After the cache warm-up, run the serving code (reads in the process, then DoGet calls to the server's own
    /// Flight port) until the runtime has compiled it, before <c>/health</c> says ok, so the first clients meet
    /// compiled code, not the JIT (decisions D30). Only with <see cref="WarmCache"/>.
    /// </summary>
    public bool WarmServing { get; set; } = true;

    /// <summary>
    /// How long the serving-code warm-up may take before <c>/health</c> can say ok: its calls over the Flight port stop at the
    /// first round that ends past it (after <c>ServingWarmup.MinLoopbackRounds</c>, 3, which always run), so start-up to ok stays bounded on a loaded machine, where the
    /// runtime compiles slowly and the warm-up waited for it (decisions D30, amended). What is not compiled by then is
    /// compiled as clients call.
    /// </summary>
    public TimeSpan WarmServingTime { get; set; } = TimeSpan.FromSeconds(6);

    /// <summary>PFX or PEM certificate; when set the Flight port serves TLS (grpc+tls://).</summary>
    public string? CertificatePath { get; set; }

    /// <summary>Password of a PFX certificate.</summary>
    public string? CertificatePassword { get; set; }

    /// <summary>Private key file of a PEM certificate (empty when the key is inside the PEM or a PFX is used).</summary>
    public string? CertificateKeyPath { get; set; }

    /// <summary>Largest upload (DoPut) in rows; more is refused whole.</summary>
    public long MaxUploadRows { get; set; } = 5_000_000;

    /// <summary>Largest gRPC message the server accepts (pyarrow sends a pandas frame as one batch).</summary>
    public int MaxReceiveMessageBytes { get; set; } = 64 << 20;

    /// <summary>DoGet slices batches so no message exceeds about this many bytes.</summary>
    public int MaxSendMessageBytes { get; set; } = 1 << 20;

    /// <summary>Serve DoGet on the zero-extra-copy path (<c>FastDoGet</c>); false uses the stock Flight writer.</summary>
    public bool FastDoGet { get; set; } = true;

    /// <summary>
    /// Seconds a stop (SIGTERM, Ctrl+C, <c>StopAsync</c>) lets calls in progress finish; then open streams are
    /// cut and the process exits. New calls are refused as soon as the stop begins.
    /// </summary>
    public int ShutdownTimeout { get; set; } = 10;

    /// <summary>
    /// Seconds between maintenance passes: compaction of small and overlapping data files, repair of what crashed
    /// writers of other processes left, and (at most hourly) the vacuum of superseded files past
    /// <see cref="Retention"/>; 0 turns maintenance off.
    /// </summary>
    public int CompactIntervalSeconds { get; set; } = 30;

    /// <summary>How long superseded data files are kept for reads of older versions before a vacuum deletes them. Default 30 days.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromDays(30);

    /// <summary>Partition cache of the store.</summary>
    public long CacheBytes { get; set; } = 2L << 30;

    /// <summary>Rows per commit when an upload acknowledged before it is applied (<c>"wait": false</c>) lands.</summary>
    public int UploadApplyChunkRows { get; set; } = 1 << 20;

    /// <summary>
    /// Memory for acknowledged uploads that queries of silver return before they are applied (the queryable
    /// buffer); an upload larger than what is left is readable once applied. 0 turns it off. Default 512 MiB.
    /// </summary>
    public long PendingUploadBytes { get; set; } = 512L << 20;

    /// <summary>
    /// Folders whose files actions may name (<c>migrate-legacy</c>'s legacy file and manifest, <c>ingest</c>'s CSV
    /// path); a relative name is taken under the first. Empty (the default): the data dir's <c>import/</c> folder.
    /// Anything outside (after resolving <c>..</c> and symlinks) is refused with PERMISSION_DENIED.
    /// </summary>
    public List<string> ImportRoots { get; set; } = [];

    public AuthOptions Auth { get; set; } = new();

    /// <summary>The Yahoo source (<c>Lakehouse:Yahoo:BaseUrl</c>, <c>RequestsPerSecond</c>, retries, timeouts).</summary>
    public Ingestion.Yahoo.YahooOptions Yahoo { get; set; } = new();

    /// <summary>The job service (<c>Lakehouse:Jobs:QueueCapacity</c>, <c>Workers</c>, <c>Kept</c>).</summary>
    public Jobs.JobOptions Jobs { get; set; } = new();

    /// <summary>The daily flow and its schedule (<c>Lakehouse:Flow:Enabled</c>, <c>Cron</c>, <c>TimeZone</c>, <c>Watchlist</c>, <c>Source</c>, <c>LookbackDays</c>).</summary>
    public Ingestion.Flow.DailyFlowOptions Flow { get; set; } = new();

    /// <summary>Flight SQL's per-query limits (<c>Lakehouse:Sql:Threads</c>, <c>MemoryLimitMb</c>, <c>MaxResultRows</c>, <c>TimeoutSeconds</c>).</summary>
    public SqlOptions Sql { get; set; } = new();

    /// <summary>The tables served (the product's tables; code may declare more, e.g. a test's table). Not read from configuration.</summary>
    [Microsoft.Extensions.Configuration.ConfigurationKeyName("__catalog_not_bound")]
    public Core.Tables.TableCatalog Catalog { get; set; } = Core.Tables.TableCatalog.Default;

    /// <summary>Options from <c>Lakehouse:*</c> in <paramref name="configuration"/>.</summary>
    public static LakehouseServerOptions FromConfiguration(IConfiguration configuration)
    {
        var options = new LakehouseServerOptions();
        configuration.GetSection(SectionName).Bind(options);
        return options;
    }

    /// <summary>Refuses settings the server cannot start with, naming the setting.</summary>
    public void Validate()
    {
        if (string.IsNullOrWhiteSpace(DataDir))
        {
            throw LakehouseException.Invalid("Lakehouse:DataDir is empty: give the lake's folder");
        }
        if (FlightPort is < 0 or > 65535)
        {
            throw LakehouseException.Invalid($"Lakehouse:FlightPort {FlightPort} is not a port (0..65535; 0 = any free port)");
        }
        if (HttpPort is < -1 or > 65535)
        {
            throw LakehouseException.Invalid($"Lakehouse:HttpPort {HttpPort} is not a port (0..65535; 0 = any free port; -1 = no HTTP API)");
        }
        if (HttpPort > 0 && HttpPort == FlightPort)
        {
            throw LakehouseException.Invalid($"Lakehouse:HttpPort and Lakehouse:FlightPort are both {HttpPort}: give them different ports");
        }
        if (!System.Net.IPAddress.TryParse(Host, out _) && Host is not ("localhost" or "*" or "0.0.0.0"))
        {
            throw LakehouseException.Invalid($"Lakehouse:Host '{Host}' is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)");
        }
        if (ShutdownTimeout is < 0 or > 3600)
        {
            throw LakehouseException.Invalid($"Lakehouse:ShutdownTimeout must be between 0 and 3600 seconds (got {ShutdownTimeout})");
        }
        if (Retention < TimeSpan.Zero)
        {
            throw LakehouseException.Invalid($"Lakehouse:Retention must be >= 0 (how long superseded files are kept, e.g. 30.00:00:00; got {Retention})");
        }
        if (WarmCacheTime < TimeSpan.Zero)
        {
            throw LakehouseException.Invalid($"Lakehouse:WarmCacheTime must be >= 0 (e.g. 00:00:03; got {WarmCacheTime})");
        }
        if (WarmServingTime < TimeSpan.Zero)
        {
            throw LakehouseException.Invalid($"Lakehouse:WarmServingTime must be >= 0 (e.g. 00:00:04; got {WarmServingTime})");
        }
        if (CompactIntervalSeconds < 0)
        {
            throw LakehouseException.Invalid($"Lakehouse:CompactIntervalSeconds must be >= 0 (0 turns the compactor off; got {CompactIntervalSeconds})");
        }
        if (PendingUploadBytes < 0)
        {
            throw LakehouseException.Invalid($"Lakehouse:PendingUploadBytes must be >= 0 (0 turns the buffer off; got {PendingUploadBytes})");
        }
        Sql.Validate();
        if (MaxUploadRows <= 0)
        {
            throw LakehouseException.Invalid($"Lakehouse:MaxUploadRows must be > 0 (got {MaxUploadRows})");
        }
        if (MaxSendMessageBytes < 64 * 1024 || MaxReceiveMessageBytes < 1 << 20)
        {
            throw LakehouseException.Invalid("Lakehouse:MaxSendMessageBytes must be >= 64 KiB and MaxReceiveMessageBytes >= 1 MiB");
        }
        if (CertificatePath is { Length: > 0 } cert && !File.Exists(cert))
        {
            throw LakehouseException.Invalid($"Lakehouse:CertificatePath '{cert}' does not exist");
        }
        if (CertificateKeyPath is { Length: > 0 } key && !File.Exists(key))
        {
            throw LakehouseException.Invalid($"Lakehouse:CertificateKeyPath '{key}' does not exist");
        }
        if (ImportRoots.Any(string.IsNullOrWhiteSpace))
        {
            throw LakehouseException.Invalid("Lakehouse:ImportRoots has an empty entry: list folders, e.g. Lakehouse__ImportRoots__0=/srv/imports");
        }
        Auth.Validate();
        if (Yahoo.Validate() is { Count: > 0 } yahoo)
        {
            throw LakehouseException.Invalid(string.Join("; ", yahoo));
        }
        if (Jobs.Validate().Concat(Flow.Validate()).ToArray() is { Length: > 0 } jobs)
        {
            throw LakehouseException.Invalid(string.Join("; ", jobs));
        }
        _ = Server.Jobs.DailyFlowScheduler.ParseCron(Flow.Cron);
    }

    /// <summary>Loads the configured certificate (PFX, or PEM with its key).</summary>
    internal System.Security.Cryptography.X509Certificates.X509Certificate2 LoadCertificate()
    {
        var path = CertificatePath!;
        if (path.EndsWith(".pem", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".crt", StringComparison.OrdinalIgnoreCase))
        {
            return System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPemFile(path, string.IsNullOrEmpty(CertificateKeyPath) ? null : CertificateKeyPath);
        }
        return System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12FromFile(path, CertificatePassword);
    }
}
