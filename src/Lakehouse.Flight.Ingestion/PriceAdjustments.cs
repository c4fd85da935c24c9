using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Ingestion;

/// <summary>
/// Keeps <c>adj_close</c> from going stale: when a split, dividend or capital gain arrives that the lake
/// did not hold, every stored bar of the symbol dated before it (and not in the fetch that brought it,
/// whose values the source already adjusted) is scaled by the event's factor, the standard
/// back-adjustment applied one event at a time: a split N:D multiplies by D/N; a cash amount A with
/// ex-date E by 1 - A / close(last trading day before E). Applying each event once, when it first
/// arrives, makes the result the product of all later events' factors, as a full recompute would be.
/// </summary>
public static class PriceAdjustments
{
    /// <summary>
    /// The stored bars whose <c>adj_close</c> changes because of <paramref name="newActions"/>, with the new
    /// value (a bar without <c>adj_close</c> is adjusted from its close). Pure: no I/O.
    /// </summary>
    /// <param name="stored">The symbol's bars in the lake, date-ascending.</param>
    /// <param name="fetched">The bars of the fetch that brought the actions (left alone; they also give closes for dividend factors).</param>
    /// <param name="newActions">Actions of the symbol the lake did not hold yet.</param>
    public static IReadOnlyList<PriceBar> Rescale(IReadOnlyList<PriceBar> stored, IReadOnlyList<PriceBar> fetched, IReadOnlyList<CorporateAction> newActions)
    {
        if (newActions.Count == 0 || stored.Count == 0)
        {
            return [];
        }
        var fetchedDates = fetched.Select(b => b.Date).ToHashSet();
        var closes = new SortedList<DateOnly, double>();
        foreach (var b in stored.Concat(fetched))
        {
            closes[b.Date] = b.Close;
        }
        var factors = new List<(DateOnly Date, double Factor)>();
        foreach (var a in newActions)
        {
            if (FactorOf(a, closes) is { } f && Math.Abs(f - 1) > 1e-12)
            {
                factors.Add((a.Date, f));
            }
        }
        if (factors.Count == 0)
        {
            return [];
        }
        var changed = new List<PriceBar>();
        foreach (var bar in stored)
        {
            if (fetchedDates.Contains(bar.Date))
            {
                continue;
            }
            var factor = 1.0;
            foreach (var (date, f) in factors)
            {
                if (bar.Date < date)
                {
                    factor *= f;
                }
            }
            if (factor != 1.0)
            {
                changed.Add(bar with { AdjClose = (bar.AdjClose ?? bar.Close) * factor });
            }
        }
        return changed;
    }

    private static double? FactorOf(CorporateAction action, SortedList<DateOnly, double> closes)
    {
        switch (action.Type)
        {
            case CorporateActionTypes.Split when action.Numerator is > 0 and var n && action.Denominator is > 0 and var d:
                return d / n;
            case CorporateActionTypes.Dividend or CorporateActionTypes.CapitalGain when action.Value is > 0 and var amount:
                // The close of the last trading day before the ex-date; none known means nothing to scale.
                var i = LastBefore(closes, action.Date);
                return i < 0 || closes.Values[i] <= amount ? null : 1 - (amount / closes.Values[i]);
            default:
                return null;
        }
    }

    private static int LastBefore(SortedList<DateOnly, double> closes, DateOnly date)
    {
        int lo = 0, hi = closes.Count - 1, found = -1;
        while (lo <= hi)
        {
            var mid = (lo + hi) >>> 1;
            if (closes.Keys[mid] < date)
            {
                found = mid;
                lo = mid + 1;
            }
            else
            {
                hi = mid - 1;
            }
        }
        return found;
    }
}
