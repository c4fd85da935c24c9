using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion.Flow;

/// <summary>
/// The daily flow, bound from <c>Lakehouse:Flow</c>: which symbols, from which source, how far back,
/// and when the server's scheduler runs it.
/// </summary>
public sealed class DailyFlowOptions
{
    /// <summary>The configuration section these options are bound from.</summary>
    public const string SectionName = "Lakehouse:Flow";

    /// <summary>The server runs the flow on <see cref="Cron"/>; off by default so a server never fetches unasked.</summary>
    public bool Enabled { get; set; }

    /// <summary>Five-field cron expression in <see cref="TimeZone"/>; by default after the US close on weekdays.</summary>
    public string Cron { get; set; } = "30 22 * * 1-5";

    /// <summary>IANA time zone id the cron expression is read in (e.g. <c>America/New_York</c>).</summary>
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Symbols the flow refreshes; entries may hold comma-separated lists (<c>AAPL,MSFT</c>).</summary>
    public List<string> Watchlist { get; set; } = [];

    /// <summary>The price source's name (<c>yahoo</c>, <c>synthetic</c>, ...).</summary>
    public string Source { get; set; } = "yahoo";

    /// <summary>Days before the flow's date fetched again, so a vendor's late corrections reach silver.</summary>
    public int LookbackDays { get; set; } = 7;

    /// <summary>The watchlist, normalised and de-duplicated.</summary>
    public IReadOnlyList<string> Symbols() =>
        Core.Symbols.NormalizeAll(Watchlist.SelectMany(w => w.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)));

    /// <summary>The time zone, or InvalidArgument naming the setting.</summary>
    public TimeZoneInfo Zone()
    {
        try
        {
            return TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        }
        catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
        {
            throw LakehouseException.Invalid($"Lakehouse:Flow:TimeZone '{TimeZone}' is not a known time zone: give an IANA id such as UTC or America/New_York");
        }
    }

    /// <summary>What is wrong with these settings (empty when nothing is); the cron expression is checked by the scheduler.</summary>
    public IReadOnlyList<string> Validate()
    {
        var errors = new List<string>();
        if (LookbackDays is < 0 or > 366)
        {
            errors.Add($"Lakehouse:Flow:LookbackDays must be between 0 and 366 (got {LookbackDays})");
        }
        if (string.IsNullOrWhiteSpace(Source))
        {
            errors.Add("Lakehouse:Flow:Source is empty: give a source name such as yahoo");
        }
        try
        {
            _ = Zone();
            _ = Symbols();
        }
        catch (LakehouseException ex)
        {
            errors.Add(ex.Message.StartsWith("Lakehouse:", StringComparison.Ordinal) ? ex.Message : "Lakehouse:Flow:Watchlist: " + ex.Message);
        }
        if (Enabled && Watchlist.Count == 0)
        {
            errors.Add("Lakehouse:Flow:Enabled is true but Lakehouse:Flow:Watchlist is empty: list the symbols to refresh");
        }
        return errors;
    }
}
