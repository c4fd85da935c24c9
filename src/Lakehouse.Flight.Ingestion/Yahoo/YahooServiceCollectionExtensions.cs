using System.Net;
using Lakehouse.Flight.Ingestion.Yahoo.Internal;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Lakehouse.Flight.Ingestion.Yahoo;

public static class YahooServiceCollectionExtensions
{
    /// <summary>
    /// Registers <see cref="YahooPriceSource"/> as an <see cref="IPriceSource"/> singleton (beside any
    /// other sources) with its typed, resilient HTTP client. Options come from <paramref name="section"/>
    /// (normally <c>Lakehouse:Yahoo</c>), then <paramref name="configure"/>; invalid settings fail when the
    /// source is first resolved, with a message naming the setting.
    /// </summary>
    public static IServiceCollection AddYahooSource(this IServiceCollection services, IConfiguration? section = null, Action<YahooOptions>? configure = null)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.AddLogging();
        var options = services.AddOptions<YahooOptions>();
        if (section is not null)
        {
            options.Bind(section);
        }
        if (configure is not null)
        {
            options.Configure(configure);
        }
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<YahooOptions>, YahooOptionsValidator>());
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<YahooSession>();
        services.TryAddSingleton<YahooRateLimiter>();

        services.AddHttpClient<YahooChartClient>(YahooChartClient.HttpClientName, (sp, http) =>
            {
                var o = sp.GetRequiredService<IOptions<YahooOptions>>().Value;
                http.DefaultRequestHeaders.UserAgent.ParseAdd(o.UserAgent);
                http.DefaultRequestHeaders.Accept.ParseAdd("application/json");
                // The resilience pipeline owns the timeouts; this only bounds reading a body after the headers.
                http.Timeout = o.TotalTimeout + o.AttemptTimeout;
            })
            // Cookies are sent by hand: only the crumb handshake's cookie, never one from a chart answer.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler
            {
                UseCookies = false,
                AutomaticDecompression = DecompressionMethods.All,
                PooledConnectionLifetime = TimeSpan.FromMinutes(5),
            })
            .AddResilienceHandler(YahooResilience.PipelineName, (pipeline, context) => YahooResilience.Configure(pipeline, context.ServiceProvider));

        services.TryAddSingleton(sp => new YahooPriceSource(
            sp.GetRequiredService<IHttpClientFactory>(),
            sp.GetRequiredService<ITypedHttpClientFactory<YahooChartClient>>(),
            sp.GetRequiredService<IOptions<YahooOptions>>(),
            sp.GetRequiredService<TimeProvider>(),
            sp.GetRequiredService<ILogger<YahooPriceSource>>()));
        services.AddSingleton<IPriceSource>(sp => sp.GetRequiredService<YahooPriceSource>());
        return services;
    }
}

internal sealed class YahooOptionsValidator : IValidateOptions<YahooOptions>
{
    public ValidateOptionsResult Validate(string? name, YahooOptions options)
    {
        var errors = options.Validate();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }
}
