using Lakehouse.Flight.Server.Internal;
using Lakehouse.Flight.Server.Internal.Actions;
using Lakehouse.Flight.Server.Jobs;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace Lakehouse.Flight.Server;

public static class ServerServiceCollectionExtensions
{
    /// <summary>
    /// The Flight service, FastDoGet, authentication, the HTTP API's job queue and OpenAPI document,
    /// with the server options validated when the host starts. Needs <c>AddLakehouseStorage</c> and
    /// <c>AddLakehouseIngestion</c>.
    /// </summary>
    public static IServiceCollection AddLakehouseServer(this IServiceCollection services, LakehouseServerOptions options)
    {
        services.AddSingleton(options);
        services.AddOptions<LakehouseServerOptions>().Configure(o => Copy(options, o)).ValidateOnStart();
        services.AddSingleton<IValidateOptions<LakehouseServerOptions>, ServerOptionsValidation>();
        services.AddSingleton(new TokenService(options.Auth));
        services.AddSingleton<FlightMetrics>();
        services.AddSingleton<ImportRoots>();
        services.AddSingleton<DoGetStreamer>();
        services.AddSingleton<FastDoGet>();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<Internal.Sql.SqlEngine>();
        services.AddSingleton<Internal.Sql.PreparedStatements>();
        services.AddSingleton<Internal.Sql.SqlRunner>();
        services.AddSingleton<Internal.Sql.FlightSqlService>();
        services.AddSingleton<FlightRequestGuard>();
        services.AddSingleton<ListenerPorts>();
        services.AddSingleton<StartupState>();
        services.AddSingleton<ServingWarmup>();
        services.AddFlightActions();
        services.AddSingleton<CompactionService>();
        services.AddHostedService(sp => sp.GetRequiredService<CompactionService>());
        services.AddLakehouseJobs(options);
        services.AddProblemDetails();
        services.AddOpenApi();
        services
            .AddGrpc(o =>
            {
                o.Interceptors.Add<FlightCallInterceptor>();
                // FlightRequestGuard enforces the caps per method (and says which); this is only the backstop.
                o.MaxReceiveMessageSize = Math.Max(options.MaxReceiveMessageBytes, FlightRequestGuard.MaxCommandBytes + 1024);
                o.MaxSendMessageSize = null;
                o.EnableDetailedErrors = false;
            })
            .AddFlightServer<LakehouseFlightService>();
        return services;
    }

    private static void Copy(LakehouseServerOptions from, LakehouseServerOptions to)
    {
        foreach (var property in typeof(LakehouseServerOptions).GetProperties().Where(p => p.CanWrite))
        {
            property.SetValue(to, property.GetValue(from));
        }
    }

    /// <summary>The same checks as <see cref="LakehouseServerOptions.Validate"/>, run by the host at start (ValidateOnStart).</summary>
    private sealed class ServerOptionsValidation : IValidateOptions<LakehouseServerOptions>
    {
        public ValidateOptionsResult Validate(string? name, LakehouseServerOptions options)
        {
            try
            {
                options.Validate();
                return ValidateOptionsResult.Success;
            }
            catch (Core.LakehouseException ex)
            {
                return ValidateOptionsResult.Fail(ex.Message);
            }
        }
    }
}
