using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;
using Lakehouse.Flight.Ingestion.Legacy;

namespace Lakehouse.Flight.Server.Internal.Actions;

/// <summary><c>migrate-legacy</c>: the prototype's single file into bronze and silver, with progress per phase step.</summary>
internal sealed class MigrateLegacyAction(LegacyMigration migration, ImportRoots imports) : IFlightAction
{
    public string Name => "migrate-legacy";

    public string Description =>
        "Move the prototype's single file into bronze (source legacy) and silver, a commit per chunk of symbols (writer). Body: {\"from\":\"prices_daily.parquet\",\"source\":\"\",\"dry_run\":false} (a server file under Lakehouse:ImportRoots, default the data dir's import/ folder; relative names are taken there). Streams {\"progress\":...} results; the last result is {\"reports\":[StorageReports],\"migration\":{counts, duplicates, invalid rows with reasons, manifest copy, per-symbol verification}}. Rerunning changes nothing; a run cut short resumes.";

    public bool RequiresWriter => true;

    public bool WaitsForIndex => true;

    public async Task RunAsync(ActionCall call)
    {
        var r = QueryCodec.Parse(call.Body, Protocol.MigrateLegacyRequest.Parser, "migrate-legacy body");
        if (string.IsNullOrWhiteSpace(r.From))
        {
            throw LakehouseException.Invalid("migrate-legacy needs the legacy file, e.g. {\"from\":\"data/prices_daily.parquet\"}");
        }
        // Server files only under the import roots (the manifest beside the file too: _manifests/ may be a link out).
        var from = imports.Resolve(r.From, "from");
        var manifest = imports.Resolve(string.IsNullOrWhiteSpace(r.LegacyManifest) ? LegacyMigration.DefaultManifestFor(from) : r.LegacyManifest, "legacy_manifest");
        var request = new LegacyMigrationRequest(from, manifest, string.IsNullOrWhiteSpace(r.Source) ? null : r.Source, r.DryRun)
        {
            FromDisplay = r.From.Trim(),
        };
        var result = await call.RunWithProgressAsync<MigrationProgress, MigrationResult>(
            (progress, ct) => migration.RunAsync(request, progress, ct),
            p => new ActionProgress { Action = Name, Phase = p.Phase, Done = p.Done, Total = p.Total, Rows = p.Rows }).ConfigureAwait(false);
        await call.WriteAsync(new MigrateLegacyResult(result.Reports, result), WireJson.Default.MigrateLegacyResult).ConfigureAwait(false);
    }
}
