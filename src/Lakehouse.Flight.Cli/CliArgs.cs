using System.Globalization;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Cli;

/// <summary>
/// <c>--name value</c> options, <c>--flag</c> switches and positional words. Options may repeat
/// (<c>--symbols A --symbols B</c>) or carry lists (<c>--symbols A,B</c>).
/// </summary>
internal sealed class CliArgs
{
    private readonly Dictionary<string, List<string>> _options = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _flags = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _used = new(StringComparer.OrdinalIgnoreCase);

    public CliArgs(IReadOnlyList<string> args, IReadOnlySet<string> flagNames)
    {
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            if (!a.StartsWith("--", StringComparison.Ordinal))
            {
                Positional.Add(a);
                continue;
            }
            var name = a[2..];
            string? value = null;
            var eq = name.IndexOf('=', StringComparison.Ordinal);
            if (eq >= 0)
            {
                value = name[(eq + 1)..];
                name = name[..eq];
            }
            if (value is null && flagNames.Contains(name))
            {
                _flags.Add(name);
                continue;
            }
            if (value is null)
            {
                if (i + 1 >= args.Count)
                {
                    throw LakehouseException.Invalid($"--{name} needs a value");
                }
                value = args[++i];
            }
            if (!_options.TryGetValue(name, out var list))
            {
                _options[name] = list = [];
            }
            list.Add(value);
        }
    }

    public List<string> Positional { get; } = [];

    public bool Has(string flag)
    {
        _used.Add(flag);
        return _flags.Contains(flag);
    }

    public string? Get(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var v) ? v[^1] : null;
    }

    public string Require(string name, string hint) =>
        Get(name) ?? throw LakehouseException.Invalid($"--{name} is required: {hint}");

    public IReadOnlyList<string> GetList(string name)
    {
        _used.Add(name);
        return _options.TryGetValue(name, out var v)
            ? v.SelectMany(x => x.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)).ToArray()
            : [];
    }

    public int GetInt(string name, int fallback)
    {
        var v = Get(name);
        if (v is null)
        {
            return fallback;
        }
        return int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out var n)
            ? n
            : throw LakehouseException.Invalid($"--{name} '{v}' is not a whole number");
    }

    /// <summary>Refuses options the command never read, so a typo is an error, not a silent default.</summary>
    public void EnsureAllUsed()
    {
        var unknown = _options.Keys.Concat(_flags).Where(k => !_used.Contains(k)).ToArray();
        if (unknown.Length > 0)
        {
            throw LakehouseException.Invalid($"unknown option(s): {string.Join(", ", unknown.Select(u => "--" + u))}");
        }
    }

    /// <summary>--data-dir, else LAKEHOUSE_DATA_DIR, else ./data.</summary>
    public string DataDir() =>
        Get("data-dir") ?? (Environment.GetEnvironmentVariable("LAKEHOUSE_DATA_DIR") is { Length: > 0 } env ? env : "data");
}
