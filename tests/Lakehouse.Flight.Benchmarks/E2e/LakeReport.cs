using System.Globalization;
using System.Text.Json;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>One of issue 22's targets: how its value is judged. Info rows (no target) have <see cref="Met"/> null.</summary>
internal sealed record LakeTarget(string Key, string Name, string Unit, string Target, Func<double, bool>? Met, bool HigherIsBetter);

/// <summary>The figures of one build (the one measured, or <c>--server-dll</c>'s old build) at one size.</summary>
internal sealed class LakeResults(string build, string commit)
{
    private readonly List<string> _order = [];
    private readonly Dictionary<string, (double Value, string Text)> _values = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _missing = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string> _names = new(StringComparer.Ordinal);

    public string Build { get; } = build;

    public string Commit { get; } = commit;

    public IReadOnlyList<string> Keys => _order;

    /// <summary>A measured figure: its value (in the target's unit) and the text shown.</summary>
    public void Set(string key, double value, string text, string? name = null)
    {
        Track(key, name);
        _missing.Remove(key);
        _values[key] = (value, text);
        Console.Error.WriteLine($"  [{Build}] {key}: {text}");
    }

    /// <summary>A figure that could not be measured: "n/a: why".</summary>
    public void NotAvailable(string key, string why, string? name = null)
    {
        Track(key, name);
        if (!_values.ContainsKey(key))
        {
            _missing[key] = why.ReplaceLineEndings(" ");
            Console.Error.WriteLine($"  [{Build}] {key}: n/a: {why}");
        }
    }

    /// <summary>Marks every key not yet measured as not available (a phase that stopped early).</summary>
    public void NotAvailableUnlessSet(IEnumerable<string> keys, string why)
    {
        foreach (var k in keys)
        {
            if (!_values.ContainsKey(k))
            {
                NotAvailable(k, why);
            }
        }
    }

    public bool Has(string key) => _values.ContainsKey(key);

    public double? Value(string key) => _values.TryGetValue(key, out var v) ? v.Value : null;

    public string Text(string key) =>
        _values.TryGetValue(key, out var v) ? v.Text : _missing.TryGetValue(key, out var m) ? "n/a: " + m : "";

    public string? NameOf(string key) => _names.GetValueOrDefault(key);

    private void Track(string key, string? name)
    {
        if (!_order.Contains(key))
        {
            _order.Add(key);
        }
        if (name is not null)
        {
            _names[key] = name;
        }
    }
}

/// <summary>The table (figure | value | target | met? [| old build | new vs old]) and one JSON line per figure and build.</summary>
internal static class LakeReport
{
    public static void Print(TextWriter w, LakeOptions o, long rows, IReadOnlyDictionary<string, LakeTarget> targets, LakeResults now, LakeResults? old,
        string? jsonOut)
    {
        var keys = now.Keys.Concat(old?.Keys ?? []).Distinct(StringComparer.Ordinal).ToList();
        w.WriteLine(old is null
            ? "| figure | value | target | met? |"
            : $"| figure | value | target | met? | old build ({old.Commit}) | new vs old |");
        w.WriteLine(old is null ? "|---|---|---|---|" : "|---|---|---|---|---|---|");
        foreach (var key in keys)
        {
            targets.TryGetValue(key, out var t);
            var name = t?.Name ?? now.NameOf(key) ?? old?.NameOf(key) ?? key;
            var line = $"| {name} | {Cell(now.Text(key))} | {t?.Target ?? ""} | {Met(t, now.Value(key))} |";
            if (old is not null)
            {
                line += $" {Cell(old.Text(key))} | {Versus(t, now.Value(key), old.Value(key))} |";
            }
            w.WriteLine(line);
        }
        w.WriteLine();
        var lines = new List<string>();
        foreach (var build in old is null ? [now] : new[] { now, old })
        {
            foreach (var key in build.Keys)
            {
                targets.TryGetValue(key, out var t);
                var value = build.Value(key);
                lines.Add(JsonSerializer.Serialize(new Dictionary<string, object?>
                {
                    ["harness"] = "lake",
                    ["size"] = o.Size,
                    ["symbols"] = o.Symbols,
                    ["years"] = o.Years,
                    ["rows"] = rows,
                    ["build"] = build.Build,
                    ["commit"] = build.Commit,
                    ["key"] = key,
                    ["figure"] = t?.Name ?? build.NameOf(key) ?? key,
                    ["value"] = value is { } v && double.IsFinite(v) ? v : null,
                    ["unit"] = t?.Unit,
                    ["target"] = t?.Target,
                    ["met"] = t?.Met is { } m && value is { } x ? m(x) : null,
                    ["text"] = build.Text(key),
                }));
            }
        }
        foreach (var l in lines)
        {
            w.WriteLine(l);
        }
        if (jsonOut is not null)
        {
            File.AppendAllLines(jsonOut, lines);
        }
    }

    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private static string Met(LakeTarget? t, double? value) => t?.Met is null ? "" : value is not { } v ? "n/a" : t.Met(v) ? "**yes**" : "**no**";

    private static string Versus(LakeTarget? t, double? now, double? old)
    {
        if (t is null || t.Unit == "bytes" || now is not { } n || old is not { } o || n <= 0 || o <= 0 || !double.IsFinite(n) || !double.IsFinite(o))
        {
            return "";
        }
        var better = t.HigherIsBetter ? n / o : o / n;
        return better >= 1
            ? $"{Ratio(better)} better"
            : $"{Ratio(1 / better)} worse";
    }

    private static string Ratio(double r) => r >= 100 ? r.ToString("N0", CultureInfo.InvariantCulture) + "x" : r.ToString("F1", CultureInfo.InvariantCulture) + "x";
}
