using Microsoft.AspNetCore.Builder;
using Microsoft.OpenApi;

namespace Lakehouse.Flight.Server.Http;

/// <summary>A query parameter an endpoint accepts: what <see cref="HttpQuery.Of"/> allows and what the OpenAPI document lists.</summary>
internal sealed record HttpParameter(string Name, string Description, bool Required = false);

internal static class HttpParameters
{
    public static string[] Names(this HttpParameter[] parameters) => parameters.Select(p => p.Name).ToArray();

    /// <summary>
    /// Lists the parameters in the OpenAPI document: the handlers read the query string through
    /// <see cref="HttpQuery"/>, not through minimal-API binding, so the generator does not see them.
    /// </summary>
    public static RouteHandlerBuilder WithQueryParameters(this RouteHandlerBuilder builder, HttpParameter[] parameters) =>
        builder.AddOpenApiOperationTransformer((operation, _, _) =>
        {
            operation.Parameters ??= [];
            foreach (var p in parameters)
            {
                operation.Parameters.Add(new OpenApiParameter
                {
                    Name = p.Name,
                    In = ParameterLocation.Query,
                    Description = p.Description,
                    Required = p.Required,
                    Schema = new OpenApiSchema { Type = JsonSchemaType.String },
                });
            }
            return Task.CompletedTask;
        });
}
