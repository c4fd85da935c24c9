namespace Lakehouse.Flight.Ingestion.Yahoo;

/// <summary>
/// Settings of the Yahoo Finance chart source, bound from <c>Lakehouse:Yahoo</c>. Tests point
/// <see cref="BaseUrl"/> and <see cref="CookieUrl"/> at a local listener and shrink the delays.
/// </summary>
public sealed class YahooOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Lakehouse:Yahoo";

    /// <summary>Chart API root; the source requests <c>{BaseUrl}/v8/finance/chart/{symbol}</c>.</summary>
    public string BaseUrl { get; set; } = "https://query2.finance.yahoo.com";

    /// <summary>Where the consent cookie comes from when Yahoo answers 401 (cookie + crumb handshake).</summary>
    public string CookieUrl { get; set; } = "https://fc.yahoo.com";

    /// <summary>Requests per second over all symbols of this source (retries included).</summary>
    public double RequestsPerSecond { get; set; } = 2;

    /// <summary>Symbols fetched at the same time.</summary>
    public int MaxConcurrency { get; set; } = 4;

    /// <summary>Retries after the first attempt on 429, 5xx, timeouts and connection errors (0 = none).</summary>
    public int MaxRetries { get; set; } = 3;

    /// <summary>First backoff delay; doubles each retry, with jitter. A <c>Retry-After</c> header wins.</summary>
    public TimeSpan RetryBaseDelay { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Longest wait before one retry, whatever the backoff or <c>Retry-After</c> says.</summary>
    public TimeSpan MaxRetryDelay { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one HTTP attempt.</summary>
    public TimeSpan AttemptTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Time allowed for one request including all retries and their waits.</summary>
    public TimeSpan TotalTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long the circuit stays open once Yahoo has failed most recent requests.</summary>
    public TimeSpan CircuitBreakDuration { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Sent on every request; Yahoo throttles requests without a user agent harder.</summary>
    public string UserAgent { get; set; } = "Mozilla/5.0 (compatible; Lakehouse.Flight/1.0)";

    /// <summary>Every problem with these settings, each naming the setting and what to set it to.</summary>
    /// <summary>Copies every setting onto <paramref name="to"/> (options built in code handed to a service collection).</summary>
    public void CopyTo(YahooOptions to)
    {
        to.BaseUrl = BaseUrl;
        to.CookieUrl = CookieUrl;
        to.RequestsPerSecond = RequestsPerSecond;
        to.MaxConcurrency = MaxConcurrency;
        to.MaxRetries = MaxRetries;
        to.RetryBaseDelay = RetryBaseDelay;
        to.MaxRetryDelay = MaxRetryDelay;
        to.AttemptTimeout = AttemptTimeout;
        to.TotalTimeout = TotalTimeout;
        to.CircuitBreakDuration = CircuitBreakDuration;
        to.UserAgent = UserAgent;
    }

    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        CheckUrl(errors, nameof(BaseUrl), BaseUrl);
        CheckUrl(errors, nameof(CookieUrl), CookieUrl);
        if (!(RequestsPerSecond > 0 && RequestsPerSecond <= 1000))
        {
            errors.Add($"{SectionName}:{nameof(RequestsPerSecond)} is {RequestsPerSecond}; set a number above 0 and at most 1000 (default 2)");
        }
        if (MaxConcurrency is < 1 or > 64)
        {
            errors.Add($"{SectionName}:{nameof(MaxConcurrency)} is {MaxConcurrency}; set 1 to 64 (default 4)");
        }
        if (MaxRetries is < 0 or > 10)
        {
            errors.Add($"{SectionName}:{nameof(MaxRetries)} is {MaxRetries}; set 0 to 10 (default 3)");
        }
        CheckSpan(errors, nameof(RetryBaseDelay), RetryBaseDelay, TimeSpan.Zero, TimeSpan.FromMinutes(5));
        CheckSpan(errors, nameof(MaxRetryDelay), MaxRetryDelay, TimeSpan.Zero, TimeSpan.FromHours(1));
        // Polly refuses timeouts under 10 ms and circuit breaks under 0.5 s.
        CheckSpan(errors, nameof(AttemptTimeout), AttemptTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(1));
        CheckSpan(errors, nameof(TotalTimeout), TotalTimeout, TimeSpan.FromMilliseconds(10), TimeSpan.FromHours(24));
        CheckSpan(errors, nameof(CircuitBreakDuration), CircuitBreakDuration, TimeSpan.FromMilliseconds(500), TimeSpan.FromHours(1));
        if (TotalTimeout < AttemptTimeout)
        {
            errors.Add($"{SectionName}:{nameof(TotalTimeout)} ({TotalTimeout}) is shorter than {nameof(AttemptTimeout)} ({AttemptTimeout}); make it at least as long");
        }
        if (string.IsNullOrWhiteSpace(UserAgent))
        {
            errors.Add($"{SectionName}:{nameof(UserAgent)} is empty; Yahoo refuses requests without one");
        }
        return errors;
    }

    private static void CheckUrl(List<string> errors, string name, string? value)
    {
        if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            errors.Add($"{SectionName}:{name} is '{value}'; set an absolute http(s) URL");
        }
    }

    private static void CheckSpan(List<string> errors, string name, TimeSpan value, TimeSpan min, TimeSpan max)
    {
        if (value < min || value > max)
        {
            errors.Add($"{SectionName}:{name} is {value}; set a duration between {min} and {max} (e.g. \"00:00:30\")");
        }
    }
}
