using System.Globalization;

namespace Lakehouse.Flight.Core;

/// <summary>
/// The dates the lake accepts, one definition for every door: upload rows (bronze and silver), ingestion
/// ranges (Flight <c>ingest</c> and <c>promote</c>, HTTP jobs, <c>lakehouse ingest</c>, the daily flow) and
/// the silver row rule. A daily bar is dated from 1900-01-01 to tomorrow in UTC (a bar of a market east of
/// UTC may already carry tomorrow's date). Reads are not limited by it: a query's <c>date_to</c> is only an
/// upper bound, and any calendar date is a harmless one (docs/decisions.md D34).
/// </summary>
public static class LakeDates
{
    /// <summary>The first date a bar may carry.</summary>
    public static readonly DateOnly Min = new(1900, 1, 1);

    /// <summary>How the range reads in messages.</summary>
    public const string RangeText = "1900-01-01 to tomorrow (UTC)";

    /// <summary>Today in UTC: the day every door measures "tomorrow" from.</summary>
    public static DateOnly Today() => DateOnly.FromDateTime(DateTime.UtcNow);

    /// <summary>The last date a bar may carry when today is <paramref name="today"/>.</summary>
    public static DateOnly MaxFor(DateOnly today) => today == DateOnly.MaxValue ? today : today.AddDays(1);

    /// <summary>True when a bar may carry <paramref name="date"/>.</summary>
    public static bool Accepts(DateOnly date, DateOnly today) => date >= Min && date <= MaxFor(today);

    /// <summary>Why <paramref name="date"/> is refused (null when accepted), naming <paramref name="what"/> (a field, or a row).</summary>
    public static string? Reason(DateOnly date, string what, DateOnly today) => Accepts(date, today)
        ? null
        : $"{what} {Iso(date)} is outside the dates the lake accepts: {Iso(Min)} to {Iso(MaxFor(today))} (tomorrow, UTC)";

    /// <summary>Refuses (InvalidArgument, naming <paramref name="field"/>) a date outside the range; null passes.</summary>
    public static DateOnly? Check(DateOnly? date, string field, DateOnly? today = null)
    {
        if (date is { } d && Reason(d, field, today ?? Today()) is { } reason)
        {
            throw LakehouseException.Invalid(reason);
        }
        return date;
    }

    /// <summary>
    /// An ingestion range: each end inside the accepted dates, <paramref name="from"/> not after <paramref name="to"/>.
    /// Throws InvalidArgument naming the field.
    /// </summary>
    public static void CheckRange(DateOnly? from, DateOnly? to, string fromField = "date_from", string toField = "date_to", DateOnly? today = null)
    {
        var day = today ?? Today();
        Check(from, fromField, day);
        Check(to, toField, day);
        if (from is { } f && to is { } t && f > t)
        {
            throw LakehouseException.Invalid($"{fromField} {Iso(f)} is after {toField} {Iso(t)}");
        }
    }

    public static string Iso(DateOnly date) => date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
}
