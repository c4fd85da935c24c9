using System.Globalization;

namespace Lakehouse.Flight.Core;

/// <summary>
/// The moment a read sees instead of the current version: a table version number, an instant (the last version
/// committed at or before it) or a named snapshot. Exactly one is set. Built through <see cref="Create"/>, which
/// names the field a bad value came from (<c>version</c>, <c>as_of</c>, <c>snapshot</c>).
/// </summary>
public sealed record ReadAsOf
{
    private ReadAsOf(long? version, DateTimeOffset? instant, string? snapshot)
    {
        Version = version;
        Instant = instant;
        Snapshot = snapshot;
    }

    /// <summary>A version number of the lake (0 is the empty lake before the first commit).</summary>
    public long? Version { get; }

    /// <summary>An instant (UTC): the read sees the last version committed at or before it.</summary>
    public DateTimeOffset? Instant { get; }

    /// <summary>A named snapshot: the read sees the version the snapshot pins for the table.</summary>
    public string? Snapshot { get; }

    public static ReadAsOf AtVersion(long version) => Create(version, null, null)!;

    public static ReadAsOf AtInstant(DateTimeOffset instant) => new(null, instant.ToUniversalTime(), null);

    public static ReadAsOf AtSnapshot(string snapshot) => Create(null, null, snapshot)!;

    /// <summary>
    /// Validates the three as-of fields of a ticket, an HTTP query or a command line: at most one may be given;
    /// null when none is. <paramref name="asOf"/> is an ISO-8601 instant with <c>Z</c> or an offset
    /// (<c>2026-11-30T22:00:00Z</c>, <c>2026-11-30T23:00:00+01:00</c>); a date alone is midnight UTC.
    /// </summary>
    public static ReadAsOf? Create(long? version, string? asOf, string? snapshot)
    {
        var given = new List<string>(3);
        if (version is not null)
        {
            given.Add("version");
        }
        if (!string.IsNullOrWhiteSpace(asOf))
        {
            given.Add("as_of");
        }
        if (!string.IsNullOrWhiteSpace(snapshot))
        {
            given.Add("snapshot");
        }
        if (given.Count > 1)
        {
            throw LakehouseException.Invalid($"{string.Join(" and ", given)} are both given: a read is as of one version, instant or snapshot; give at most one");
        }
        if (version is { } v)
        {
            return v < 0
                ? throw LakehouseException.Invalid($"version must be >= 0 (got {v}): versions are numbered from 1, 0 is the empty lake")
                : new ReadAsOf(v, null, null);
        }
        if (!string.IsNullOrWhiteSpace(asOf))
        {
            return new ReadAsOf(null, ParseInstant(asOf), null);
        }
        if (!string.IsNullOrWhiteSpace(snapshot))
        {
            var name = snapshot.Trim();
            ValidateSnapshotName(name, "snapshot");
            return new ReadAsOf(null, null, name);
        }
        return null;
    }

    /// <summary>An ISO-8601 instant with <c>Z</c> or an offset, or a date (midnight UTC); InvalidArgument naming <c>as_of</c> otherwise.</summary>
    public static DateTimeOffset ParseInstant(string value, string field = "as_of")
    {
        var text = value.Trim();
        if (DateOnly.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var day))
        {
            return new DateTimeOffset(day.ToDateTime(TimeOnly.MinValue), TimeSpan.Zero);
        }
        var hasZone = text.EndsWith('Z') || text.EndsWith('z') || HasOffset(text);
        if (hasZone && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal, out var instant)
            && text.Contains('T', StringComparison.OrdinalIgnoreCase))
        {
            return instant.ToUniversalTime();
        }
        throw LakehouseException.Invalid(
            $"{field} '{value}' is not an ISO-8601 instant with a time zone: use e.g. 2026-11-30T22:00:00Z or 2026-11-30T23:00:00+01:00 (or a date, read as midnight UTC)");
    }

    /// <summary>A snapshot name: letters, digits, '.', '_' and '-', 1 to 64 characters, starting with a letter or digit.</summary>
    public static void ValidateSnapshotName(string name, string field)
    {
        var ok = name.Length is > 0 and <= 64 && char.IsAsciiLetterOrDigit(name[0]);
        foreach (var c in name)
        {
            ok &= char.IsAsciiLetterOrDigit(c) || c is '.' or '_' or '-';
        }
        if (!ok)
        {
            throw LakehouseException.Invalid(
                $"{field} '{name}' is not a snapshot name: use 1 to 64 letters, digits, '.', '_' or '-', starting with a letter or digit, e.g. backtest-2026-11");
        }
    }

    /// <summary>The field and value as a ticket or an HTTP query names them (<c>version=12</c>, <c>as_of=2026-11-30T22:00:00.0000000Z</c>, <c>snapshot=eod</c>).</summary>
    public override string ToString() =>
        Version is { } v ? "version=" + v.ToString(CultureInfo.InvariantCulture)
        : Instant is { } i ? "as_of=" + FormatInstant(i)
        : "snapshot=" + Snapshot;

    /// <summary>An instant as the wire writes it: UTC, its full precision (ticks), <c>Z</c>.</summary>
    public static string FormatInstant(DateTimeOffset instant) =>
        instant.ToUniversalTime().ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static bool HasOffset(string text)
    {
        // ...T..+hh:mm / -hh:mm / +hhmm at the end.
        var t = text.IndexOf('T', StringComparison.OrdinalIgnoreCase);
        if (t < 0)
        {
            return false;
        }
        var tail = text.AsSpan(t);
        return tail.LastIndexOfAny('+', '-') > 0;
    }
}
