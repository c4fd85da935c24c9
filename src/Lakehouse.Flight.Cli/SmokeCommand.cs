using System.CommandLine;
using System.Diagnostics;
using System.Text.Json;
using Grpc.Core;
using Lakehouse.Flight.Client;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Wire;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>lakehouse smoke</c>: checks a running deployment end to end through the SDK, as a user would:
/// datasets, schema, a DoGet, an upload into the scratch source <c>smoke</c> (bronze only; skipped when
/// the token cannot write), and HTTP health. Each check has a short deadline, so a stopped server fails
/// in seconds, not minutes.
/// </summary>
internal static class SmokeCommand
{
    /// <summary>The scratch source and symbol: bronze only, one fixed bar, so reruns add nothing.</summary>
    internal const string ScratchSource = "smoke";
    internal const string ScratchSymbol = "SMOKE.TEST";

    public static CliCommand Create(CliIo io)
    {
        var server = new Option<string>("--server") { Description = "The Flight endpoint", HelpName = "grpc://HOST:PORT", Required = true };
        var http = new Option<string?>("--http") { Description = "The HTTP API, to check /health", HelpName = "http://HOST:PORT" };
        var token = new Option<string?>("--token") { Description = "Bearer token (a writer token also checks an upload)", HelpName = "TOKEN" };
        var timeout = new Option<double>("--timeout") { Description = "Seconds each check may take", HelpName = "SECONDS", DefaultValueFactory = _ => 5 };
        var json = CommonOptions.Json();
        var command = new Command("smoke", "Check a running server end to end (list, schema, DoGet, upload, health); exits 1 on any failure.")
        {
            server, http, token, timeout, json,
        };
        command.SetAction((parse, ct) => RunAsync(io, parse.GetValue(server)!, parse.GetValue(http), parse.GetValue(token),
            TimeSpan.FromSeconds(Math.Max(0.1, parse.GetValue(timeout))), parse.GetValue(json), ct));
        return new CliCommand(command,
            "lakehouse smoke --server grpc://localhost:8815 --http http://localhost:8080",
            "lakehouse smoke --server grpc+tls://lake.example.com:8815 --token $LAKEHOUSE_TOKEN --json");
    }

    internal sealed record Check(string Name, bool Ok, long Ms, string Detail);

    private static async Task<int> RunAsync(CliIo io, string serverText, string? httpText, string? token, TimeSpan timeout, bool json,
        CancellationToken cancellationToken)
    {
        if (!Uri.TryCreate(serverText, UriKind.Absolute, out var server) || server.Scheme is not ("grpc" or "grpc+tcp" or "grpc+tls" or "http" or "https"))
        {
            throw LakehouseException.Invalid($"--server '{serverText}' is not an endpoint: use grpc://HOST:PORT or grpc+tls://HOST:PORT");
        }
        Uri? http = null;
        if (httpText is not null && (!Uri.TryCreate(httpText, UriKind.Absolute, out http) || http.Scheme is not ("http" or "https")))
        {
            throw LakehouseException.Invalid($"--http '{httpText}' is not an HTTP address: use http://HOST:PORT");
        }
        using var client = new LakehouseClient(server, new LakehouseClientOptions { Token = token });
        var checks = new List<Check>();

        async Task Run(string name, Func<CancellationToken, Task<string>> check)
        {
            var sw = Stopwatch.StartNew();
            using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            cts.CancelAfter(timeout);
            Check result;
            try
            {
                result = new Check(name, true, 0, await check(cts.Token).ConfigureAwait(false));
            }
            catch (SkipException skip)
            {
                result = new Check(name, true, 0, "skipped: " + skip.Message);
            }
            catch (Exception ex) when (!cancellationToken.IsCancellationRequested && ex is RpcException or HttpRequestException or OperationCanceledException or IOException)
            {
                result = new Check(name, false, 0, Describe(ex, timeout));
            }
            checks.Add(result with { Ms = sw.ElapsedMilliseconds });
        }

        await Run("list datasets", async ct =>
        {
            var datasets = await client.ListDatasetsAsync(ct).ConfigureAwait(false);
            return $"{datasets.Count} dataset(s): {string.Join(", ", datasets.Select(d => $"{d.Layer}/{d.Table} {d.TotalRecords:N0} rows"))}";
        }).ConfigureAwait(false);
        // Unreachable: the other Flight checks would only repeat the same failure.
        if (checks[^1].Ok)
        {
            await Run("schema", async ct =>
            {
                var schema = await client.GetSchemaAsync(TableQuery.Create(), ct).ConfigureAwait(false);
                var names = schema.FieldsList.Select(f => f.Name).ToArray();
                return names.Contains("symbol") && names.Contains("date") && names.Contains("close")
                    ? $"silver/prices_daily: {string.Join(", ", names)}"
                    : throw new RpcException(new Status(StatusCode.DataLoss, $"schema lacks symbol, date or close: {string.Join(", ", names)}"));
            }).ConfigureAwait(false);
            await Run("doget", async ct =>
            {
                long rows = 0;
                var batches = 0;
                await foreach (var batch in client.GetPricesAsync(TableQuery.Create(limit: 100), ct).ConfigureAwait(false))
                {
                    rows += batch.Length;
                    batches++;
                }
                return $"{rows} row(s) in {batches} batch(es)";
            }).ConfigureAwait(false);
            await Run("upload", async ct =>
            {
                var bar = new PriceBar(ScratchSymbol, new DateOnly(2000, 1, 3), 10, 11, 9, 10.5, 10.5, 100, ScratchSource, DateTimeOffset.UtcNow);
                try
                {
                    var reports = await client.UploadAsync([bar], ScratchSource, promote: false, ct).ConfigureAwait(false);
                    return $"bronze source={ScratchSource} {ScratchSymbol}: " + string.Join("; ", reports.Select(r => $"inserted {r.Inserted}, unchanged {r.Unchanged}"));
                }
                catch (RpcException ex) when (ex.StatusCode is StatusCode.PermissionDenied or StatusCode.Unauthenticated)
                {
                    throw new SkipException($"the token cannot write ({ex.StatusCode})");
                }
            }).ConfigureAwait(false);
        }
        if (http is not null)
        {
            await Run("http health", async ct =>
            {
                using var httpClient = new HttpClient { Timeout = timeout };
                using var request = new HttpRequestMessage(HttpMethod.Get, new Uri(http, "/health"));
                if (token is not null)
                {
                    request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", token);
                }
                using var response = await httpClient.SendAsync(request, ct).ConfigureAwait(false);
                var body = await response.Content.ReadAsStringAsync(ct).ConfigureAwait(false);
                var status = JsonSerializer.Deserialize(body, WireJson.Default.HealthReport)?.Status;
                return response.IsSuccessStatusCode && status == "ok"
                    ? $"{(int)response.StatusCode} status=ok"
                    : throw new HttpRequestException($"{(int)response.StatusCode} status={(string.IsNullOrEmpty(status) ? "?" : status)}");
            }).ConfigureAwait(false);
        }
        Print(io, checks, json, server);
        return checks.All(c => c.Ok) ? 0 : 1;
    }

    private static void Print(CliIo io, List<Check> checks, bool json, Uri server)
    {
        if (json)
        {
            foreach (var c in checks)
            {
                io.Out.WriteLine(JsonSerializer.Serialize(new { check = c.Name, ok = c.Ok, ms = c.Ms, detail = c.Detail }));
            }
            return;
        }
        var width = Math.Max(5, checks.Max(c => c.Name.Length));
        io.Out.WriteLine($"smoke {server}");
        io.Out.WriteLine($"{"check".PadRight(width)}  {"result",-6}  {"time",8}  detail");
        foreach (var c in checks)
        {
            io.Out.WriteLine($"{c.Name.PadRight(width)}  {(c.Ok ? "ok" : "FAIL"),-6}  {c.Ms + " ms",8}  {c.Detail}");
        }
        var failed = checks.Count(c => !c.Ok);
        io.Out.WriteLine(failed == 0 ? "all checks passed" : $"{failed} check(s) FAILED");
    }

    private static string Describe(Exception ex, TimeSpan timeout) => ex switch
    {
        RpcException { StatusCode: StatusCode.Unavailable } r => $"server unreachable (Unavailable): {r.Status.Detail}",
        RpcException { StatusCode: StatusCode.DeadlineExceeded or StatusCode.Cancelled } => $"no answer within {timeout.TotalSeconds:0.#} s",
        RpcException r => $"{r.StatusCode}: {r.Status.Detail}",
        OperationCanceledException => $"no answer within {timeout.TotalSeconds:0.#} s",
        _ => ex.Message.Split('\n')[0],
    };

    private sealed class SkipException(string message) : Exception(message);
}
