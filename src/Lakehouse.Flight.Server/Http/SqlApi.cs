using System.Text;
using System.Text.Json;
using Apache.Arrow;
using Apache.Arrow.Ipc;
using Grpc.Core;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Server.Internal.Sql;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Logging;
using Microsoft.OpenApi;

namespace Lakehouse.Flight.Server.Http;

/// <summary>
/// <c>POST /sql</c>: the SQL of Flight SQL over plain HTTP (decisions D41), run by the same <see cref="SqlRunner"/> (the same
/// guard, limits, slots and version pinning). The body is JSON (whatever its Content-Type says: <c>curl -d</c> sends a form type), <c>{"query": "...", "parameters": [...]}</c>; the answer
/// is JSON (an array of row objects; the default), CSV or an Arrow IPC stream by <c>Accept</c>, streamed batch by batch,
/// with the lake version read in <c>X-Lakehouse-Version</c>. Readers may call it although it is a POST (it only reads).
/// </summary>
internal static class SqlApi
{
    public const string VersionHeader = "X-Lakehouse-Version";

    /// <summary>The formats, the default first.</summary>
    private static readonly string[] Formats = ["application/json", "text/csv", HttpApi.ArrowStream];

    /// <summary>A body larger than this is refused unread (the query's own cap is FlightRequestGuard.MaxCommandBytes).</summary>
    private const int MaxBodyBytes = 2 * FlightRequestGuard.MaxCommandBytes;

    public static void MapSqlApi(this RouteGroupBuilder api) =>
        api.MapPost("/sql", RunAsync)
            .WithName("Sql")
            .WithSummary("Runs one SQL statement over the lake (DuckDB's dialect; tables <layer>.<table>, e.g. silver.prices_daily) at one committed version, "
                + "as Flight SQL does. Body: {\"query\": \"SELECT ...\", \"parameters\": [values for ? or $1, ...]} (parameters optional). Answers JSON (an array of "
                + "objects; default), CSV (Accept: text/csv) or an Arrow IPC stream (Accept: application/vnd.apache.arrow.stream), streamed; the version read "
                + "is in X-Lakehouse-Version. Bad SQL is 400 with the engine's message; readers may call it.")
            .WithMetadata(ReadOnlyEndpoint.Instance)
            .AddOpenApiOperationTransformer((operation, _, _) =>
            {
                // Described here rather than by Accepts<T>(): that would also make routing refuse, with an empty 415, the
                // form content type `curl -d` sends; the handler reads any body as JSON and says what to send.
                operation.RequestBody = new OpenApiRequestBody
                {
                    Required = true,
                    Content = new Dictionary<string, OpenApiMediaType>
                    {
                        ["application/json"] = new()
                        {
                            Schema = new OpenApiSchema
                            {
                                Type = JsonSchemaType.Object,
                                Required = new HashSet<string> { "query" },
                                Properties = new Dictionary<string, IOpenApiSchema>
                                {
                                    ["query"] = new OpenApiSchema { Type = JsonSchemaType.String, Description = "One SQL statement" },
                                    ["parameters"] = new OpenApiSchema { Type = JsonSchemaType.Array, Description = "Values for ? or $1... in order: strings, numbers, booleans, null" },
                                },
                            },
                        },
                    },
                };
                return Task.CompletedTask;
            });

    private static async Task<IResult> RunAsync(HttpContext http, SqlRunner runner, ILogger<SqlRunner> logger)
    {
        if (!runner.Options.Enabled)
        {
            throw new LakehouseException(LakehouseErrorKind.Unimplemented, "SQL is turned off on this server (Lakehouse:Sql:Enabled=false)");
        }
        if (http.Request.Query.Count > 0)
        {
            throw LakehouseException.Invalid(
                $"POST /sql takes no query-string parameters (got '{http.Request.Query.Keys.First()}'): send {{\"query\": \"SELECT ...\"}} as a JSON body, the format by Accept");
        }
        var format = HttpAccept.Choose(http.Request, Formats);
        var ct = http.RequestAborted;
        var (sql, parameters, asOf) = await ReadBodyAsync(http.Request, ct).ConfigureAwait(false);
        var sink = new HttpSqlSink(http.Response, format);
        try
        {
            await runner.RunAsync(sql, parameters, sink.At, ct, asOf).ConfigureAwait(false);
            await sink.EndAsync(ct).ConfigureAwait(false);
        }
        catch (RpcException ex) when (!sink.Started)
        {
            // The engine's deadline: the one failure SqlSession reports as a gRPC status.
            var status = ex.StatusCode == StatusCode.DeadlineExceeded ? StatusCodes.Status504GatewayTimeout : StatusCodes.Status400BadRequest;
            return Results.Problem(statusCode: status, title: Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), detail: ex.Status.Detail);
        }
        catch (Exception ex) when (sink.Started)
        {
            // Rows are on the wire with a 200: the only honest signal left is to cut the response, so the client sees a
            // broken stream (no end marker, no closing bracket, no last chunk) rather than a result that looks whole.
            if (!ct.IsCancellationRequested)
            {
                ServerLog.Refused(logger, "POST /sql", ex.Message);
            }
            http.Abort();
        }
        return Results.Empty;
    }

    /// <summary>The statement and its parameters from a JSON body; anything else in it is refused, naming the fields there are.</summary>
    private static async Task<(string Sql, IReadOnlyList<object?> Parameters, ReadAsOf? AsOf)> ReadBodyAsync(HttpRequest request, CancellationToken ct)
    {
        const string Example = "{\"query\": \"SELECT * FROM silver.prices_daily WHERE symbol = ? LIMIT 10\", \"parameters\": [\"AAPL\"]}";
        if (request.ContentLength > MaxBodyBytes)
        {
            throw new HttpProblemException(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes:N0} bytes");
        }
        using var body = new MemoryStream();
        var buffer = new byte[16 * 1024];
        int read;
        while ((read = await request.Body.ReadAsync(buffer, ct).ConfigureAwait(false)) > 0)
        {
            if (body.Length + read > MaxBodyBytes)
            {
                throw new HttpProblemException(StatusCodes.Status413PayloadTooLarge, $"the body is larger than {MaxBodyBytes:N0} bytes");
            }
            body.Write(buffer, 0, read);
        }
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            throw LakehouseException.Invalid($"the body is not JSON ({ex.Message}): send {Example}");
        }
        using (document)
        {
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw LakehouseException.Invalid($"the body must be a JSON object: {Example}");
            }
            string? sql = null;
            var parameters = new List<object?>();
            long? version = null;
            string? asOf = null, snapshot = null;
            foreach (var property in root.EnumerateObject())
            {
                switch (property.Name)
                {
                    case "query" when property.Value.ValueKind == JsonValueKind.String:
                        sql = property.Value.GetString();
                        break;
                    case "query":
                        throw LakehouseException.Invalid($"\"query\" must be a string of SQL: {Example}");
                    case "parameters" when property.Value.ValueKind == JsonValueKind.Array:
                        parameters.AddRange(property.Value.EnumerateArray().Select((v, i) => Parameter(v, i)));
                        break;
                    case "parameters" when property.Value.ValueKind == JsonValueKind.Null:
                        break;
                    case "parameters":
                        throw LakehouseException.Invalid($"\"parameters\" must be an array of values, one per ? or $n: {Example}");
                    case "version" when property.Value.ValueKind == JsonValueKind.Number && property.Value.TryGetInt64(out var v):
                        version = v;
                        break;
                    case "version":
                        throw LakehouseException.Invalid("\"version\" must be a lake version number, e.g. {\"query\": \"...\", \"version\": 12}");
                    case "as_of" or "snapshot" when property.Value.ValueKind == JsonValueKind.String && string.IsNullOrWhiteSpace(property.Value.GetString()):
                        throw LakehouseException.Invalid($"\"{property.Name}\" is empty: give a value or leave the field out (the query then reads the current version)");
                    case "as_of" when property.Value.ValueKind == JsonValueKind.String:
                        asOf = property.Value.GetString();
                        break;
                    case "snapshot" when property.Value.ValueKind == JsonValueKind.String:
                        snapshot = property.Value.GetString();
                        break;
                    case "as_of" or "snapshot":
                        throw LakehouseException.Invalid($"\"{property.Name}\" must be a string, e.g. {{\"query\": \"...\", \"as_of\": \"2026-11-30T22:00:00Z\"}}");
                    default:
                        throw LakehouseException.Invalid(
                            $"unknown field '{property.Name}' in the body: the fields are query, parameters and one of as_of, version, snapshot, e.g. {Example}");
                }
            }
            return (sql ?? throw LakehouseException.Invalid($"the body has no \"query\": {Example}"), parameters, ReadAsOf.Create(version, asOf, snapshot));
        }
    }

    /// <summary>A JSON value as an engine parameter: strings, booleans, whole numbers (int64), other numbers (double), null.</summary>
    private static object? Parameter(JsonElement value, int index) => value.ValueKind switch
    {
        JsonValueKind.String => value.GetString(),
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        JsonValueKind.Null => null,
        JsonValueKind.Number when value.TryGetInt64(out var l) => l,
        JsonValueKind.Number => value.GetDouble(),
        _ => throw LakehouseException.Invalid(
            $"parameter {index + 1} is a JSON {value.ValueKind.ToString().ToLowerInvariant()}: parameters are strings, numbers, booleans or null (cast in SQL, e.g. CAST(? AS DATE))"),
    };

    /// <summary>
    /// Writes the rows in the chosen format. The response starts at the first batch (or at the end of an empty result),
    /// not when the engine knows the schema: a statement that fails before its first batch (most do: binding, the
    /// first 64K rows of a scan, an aggregate) is still answered with problem+json.
    /// </summary>
    private sealed class HttpSqlSink(HttpResponse response, string format) : IDoGetSink
    {
        private Schema? _schema;
        private long _version;
        private ArrowStreamWriter? _arrow;
        private Utf8JsonWriter? _json;

        public bool Started { get; private set; }

        public IDoGetSink At(long version)
        {
            _version = version;
            return this;
        }

        public ValueTask<bool> StartAsync(Schema schema, CancellationToken cancellationToken)
        {
            _schema = schema;
            return ValueTask.FromResult(true);
        }

        public async ValueTask<bool> WriteAsync(RecordBatch batch, CancellationToken cancellationToken)
        {
            await BeginAsync(cancellationToken).ConfigureAwait(false);
            switch (format)
            {
                case HttpApi.ArrowStream:
                    await _arrow!.WriteRecordBatchAsync(batch, cancellationToken).ConfigureAwait(false);
                    break;
                case "text/csv":
                    var text = new StringBuilder();
                    SqlText.AppendCsv(text, batch);
                    await response.BodyWriter.WriteAsync(Encoding.UTF8.GetBytes(text.ToString()), cancellationToken).ConfigureAwait(false);
                    break;
                default:
                    SqlText.WriteJson(_json!, batch);
                    await _json!.FlushAsync(cancellationToken).ConfigureAwait(false);
                    break;
            }
            var flushed = await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
            return !flushed.IsCanceled && !flushed.IsCompleted;
        }

        public async Task EndAsync(CancellationToken cancellationToken)
        {
            await BeginAsync(cancellationToken).ConfigureAwait(false);
            if (_arrow is not null)
            {
                await _arrow.WriteEndAsync(cancellationToken).ConfigureAwait(false);
                _arrow.Dispose();
            }
            if (_json is not null)
            {
                _json.WriteEndArray();
                await _json.FlushAsync(cancellationToken).ConfigureAwait(false);
                await _json.DisposeAsync().ConfigureAwait(false);
            }
            await response.BodyWriter.FlushAsync(cancellationToken).ConfigureAwait(false);
        }

        private async Task BeginAsync(CancellationToken cancellationToken)
        {
            if (Started)
            {
                return;
            }
            Started = true;
            var schema = _schema ?? throw new InvalidOperationException("the engine sent rows before their schema");
            response.StatusCode = StatusCodes.Status200OK;
            response.Headers[VersionHeader] = _version.ToString(System.Globalization.CultureInfo.InvariantCulture);
            switch (format)
            {
                case HttpApi.ArrowStream:
                    response.ContentType = HttpApi.ArrowStream;
                    _arrow = new ArrowStreamWriter(response.Body, schema, leaveOpen: true);
                    // The schema first, so an empty result is a schema-only stream (the writer's end marker alone writes none).
                    await _arrow.WriteStartAsync(cancellationToken).ConfigureAwait(false);
                    break;
                case "text/csv":
                    response.ContentType = "text/csv; charset=utf-8";
                    System.Buffers.BuffersExtensions.Write(response.BodyWriter, Encoding.UTF8.GetBytes(SqlText.CsvHeader(schema)));
                    break;
                default:
                    response.ContentType = "application/json; charset=utf-8";
                    _json = new Utf8JsonWriter(response.BodyWriter);
                    _json.WriteStartArray();
                    break;
            }
        }
    }
}

/// <summary>Marks a POST that only reads (<c>POST /sql</c>: a statement is too long for a URL): readers may call it.</summary>
internal sealed class ReadOnlyEndpoint
{
    public static readonly ReadOnlyEndpoint Instance = new();

    private ReadOnlyEndpoint()
    {
    }
}
