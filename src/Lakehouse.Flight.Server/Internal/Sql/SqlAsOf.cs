using System.Globalization;
using System.Text.RegularExpressions;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// The as-of hint of a SQL statement (docs/decisions.md D44): a comment before the statement,
/// <c>-- lakehouse: as_of=2026-11-30T22:00:00Z</c>, <c>-- lakehouse: version=12</c> or <c>-- lakehouse: snapshot=eod</c>
/// (or the same inside <c>/* ... */</c>), reads the whole query at that moment, as a DoGet ticket's <c>as_of</c>,
/// <c>version</c> and <c>snapshot</c> do. A comment is what every Flight SQL, JDBC and ODBC tool passes through unchanged,
/// and the engine ignores it, so the statement stays standard SQL. Only comments before the first token count; a
/// comment that starts with <c>lakehouse:</c> but names anything else is refused, never silently ignored.
/// </summary>
internal static partial class SqlAsOf
{
    [GeneratedRegex(@"\G\s*(?:--(?<line>[^\r\n]*)|/\*(?<block>.*?)\*/)", RegexOptions.Singleline)]
    private static partial Regex LeadingComment();

    [GeneratedRegex(@"^\s*lakehouse\s*:(?<body>.*)$", RegexOptions.IgnoreCase | RegexOptions.Singleline)]
    private static partial Regex Hint();

    [GeneratedRegex(@"^\s*(?<key>[A-Za-z_]+)\s*=\s*(?<value>'[^']*'|""[^""]*""|\S+)\s*$")]
    private static partial Regex Setting();

    /// <summary>The as-of of <paramref name="sql"/>'s hint, or null when it has none; InvalidArgument naming what to fix.</summary>
    public static ReadAsOf? Of(string sql)
    {
        ArgumentNullException.ThrowIfNull(sql);
        ReadAsOf? found = null;
        var at = 0;
        for (var m = LeadingComment().Match(sql, at); m.Success && m.Length > 0; m = LeadingComment().Match(sql, at))
        {
            at = m.Index + m.Length;
            var text = m.Groups["line"].Success ? m.Groups["line"].Value : m.Groups["block"].Value;
            var hint = Hint().Match(text);
            if (!hint.Success)
            {
                continue;
            }
            if (found is not null)
            {
                throw LakehouseException.Invalid("the statement has two lakehouse: hints: a query reads one version, instant or snapshot; keep one");
            }
            found = Parse(hint.Groups["body"].Value.Trim());
        }
        return found;
    }

    /// <summary>
    /// The statement's hint and an as-of given beside it (an HTTP body's or a command line's fields): at most one of them.
    /// </summary>
    public static ReadAsOf? Of(string sql, ReadAsOf? given, string givenAs)
    {
        var hinted = Of(sql);
        return hinted is not null && given is not null
            ? throw LakehouseException.Invalid($"the statement's lakehouse: hint ({hinted}) and {givenAs} ({given}) are both given: a query reads one version, instant or snapshot; give one")
            : hinted ?? given;
    }

    private static ReadAsOf Parse(string body)
    {
        var setting = Setting().Match(body);
        if (!setting.Success)
        {
            throw LakehouseException.Invalid(
                $"the lakehouse: hint '{body}' is not one setting: write -- lakehouse: as_of=2026-11-30T22:00:00Z, -- lakehouse: version=12 or -- lakehouse: snapshot=eod");
        }
        var key = setting.Groups["key"].Value.ToLowerInvariant();
        var value = setting.Groups["value"].Value.Trim('\'', '"').Trim();
        if (value.Length == 0)
        {
            // An empty value would read as "no moment" and the query would run at the current version: never silently.
            throw LakehouseException.Invalid($"the lakehouse: hint gives {key} no value: write e.g. -- lakehouse: version=12, as_of=2026-11-30T22:00:00Z or snapshot=eod");
        }
        switch (key)
        {
            case "version":
                return long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out var version)
                    ? ReadAsOf.Create(version, null, null)!
                    : throw LakehouseException.Invalid($"version '{value}' in the lakehouse: hint is not a version number: write e.g. -- lakehouse: version=12");
            case "as_of":
                return ReadAsOf.Create(null, value, null)!;
            case "snapshot":
                return ReadAsOf.Create(null, null, value)!;
            default:
                throw LakehouseException.Invalid(
                    $"the lakehouse: hint names '{setting.Groups["key"].Value}': it takes as_of (an ISO-8601 instant), version (a number) or snapshot (a name)");
        }
    }
}
