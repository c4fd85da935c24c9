using System.Globalization;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>Flags of <c>lake</c> (issue 22's targets at one size).</summary>
internal sealed class LakeOptions
{
    /// <summary>What <c>--skip</c> accepts: one name per group of figures.</summary>
    public static readonly string[] Parts =
        ["put", "append", "correction", "disk", "duckdb", "dataset", "start", "point", "cold", "scan", "curl", "ingest", "old"];

    public int Symbols { get; private set; } = 500;
    public int Years { get; private set; } = 20;
    public int LastYear { get; private set; } = 2024;
    public string? DataDir { get; private set; }
    public bool Keep { get; private set; }
    public bool Reuse { get; private set; }
    public string? ServerDll { get; private set; }
    public string? NewServerDll { get; private set; }
    public string? Python { get; private set; }
    public int CacheMiB { get; private set; }
    public HashSet<string> Skip { get; } = new(StringComparer.OrdinalIgnoreCase);
    public int PointQueries { get; private set; } = 200;
    public int Corrections { get; private set; } = 20;
    /// <summary>Picks the corrections' symbols and days and their volumes: a run on a reused lake needs one of its own, or its corrections change nothing.</summary>
    public int CorrectionSeed { get; private set; } = 3;
    public int Appends { get; private set; } = 3;
    /// <summary>The day the appends follow (default: the universe's last day); a reused lake that took appends before needs a later one.</summary>
    public DateOnly? AppendAfter { get; private set; }
    public int MaxUploadRows { get; private set; } = 5_000_000;
    public int BatchRows { get; private set; } = 100_000;
    public double Budget { get; private set; } = 30;
    public TimeSpan ServerTimeout { get; private set; } = TimeSpan.FromMinutes(10);
    public string? JsonOut { get; private set; }
    /// <summary>The previous engine runs at sizes up to this (its month files: 2.6M rows take ~90 s to ingest and 3 GB; 26M ~16 GB).</summary>
    public long OldMaxRows { get; private set; } = 3_000_000;
    public double KeepFreeGiB { get; private set; } = 20;

    public DateOnly From => new(LastYear - Years + 1, 1, 1);
    public DateOnly To => new(LastYear, 12, 31);
    public string Size => $"{Symbols}x{Years}";

    public bool Skips(string part) => Skip.Contains(part);

    public const string Usage = """
        usage: lake --symbols N --years Y [--last-year 2024] [--data-dir D [--keep] [--reuse]]
                    [--server-dll old/lakehouse.dll] [--new-server-dll path] [--python path] [--cache-mb N]
                    [--skip put,append,correction,disk,duckdb,dataset,start,point,cold,scan,curl,ingest,old]
                    [--point-queries 200] [--corrections 20] [--correction-seed 3] [--appends 3] [--append-after YYYY-MM-DD] [--max-upload-rows 5000000] [--batch-rows 100000]
                    [--budget 30 (seconds of repeats per figure)] [--server-timeout 600] [--old-max-rows 3000000]
                    [--keep-free-gb 20] [--json-out FILE]
        D holds lake/ (the lake measured), old-lake/ (--server-dll's), upload/ (the generated upload files) and
        reference.parquet; without --keep those are deleted at the end (and D when that empties it). --reuse measures a kept lake without writing it again.
        """;

    public static LakeOptions Parse(IReadOnlyList<string> args)
    {
        var o = new LakeOptions();
        for (var i = 0; i < args.Count; i++)
        {
            var a = args[i];
            string Next() => i + 1 < args.Count ? args[++i] : throw new ArgumentException($"{a} needs a value\n{Usage}");
            int Int() => int.Parse(Next(), NumberStyles.Integer, CultureInfo.InvariantCulture) is var v && v >= 0
                ? v : throw new ArgumentException($"{a} must be >= 0");
            switch (a)
            {
                case "--symbols": o.Symbols = Math.Max(1, Int()); break;
                case "--years": o.Years = Math.Max(1, Int()); break;
                case "--last-year": o.LastYear = Int(); break;
                case "--data-dir": o.DataDir = Next(); break;
                case "--keep": o.Keep = true; break;
                case "--reuse": o.Reuse = true; break;
                case "--server-dll": o.ServerDll = Next(); break;
                case "--new-server-dll": o.NewServerDll = Next(); break;
                case "--python": o.Python = Next(); break;
                case "--cache-mb": o.CacheMiB = Int(); break;
                case "--skip":
                    foreach (var part in Next().Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
                    {
                        if (!Parts.Contains(part, StringComparer.OrdinalIgnoreCase))
                        {
                            throw new ArgumentException($"--skip {part}: use one of {string.Join(",", Parts)}");
                        }
                        o.Skip.Add(part);
                    }
                    break;
                case "--point-queries": o.PointQueries = Math.Max(1, Int()); break;
                case "--corrections": o.Corrections = Math.Max(1, Int()); break;
                case "--correction-seed": o.CorrectionSeed = Int(); break;
                case "--appends": o.Appends = Math.Max(1, Int()); break;
                case "--append-after": o.AppendAfter = DateOnly.ParseExact(Next(), "yyyy-MM-dd", CultureInfo.InvariantCulture); break;
                case "--max-upload-rows": o.MaxUploadRows = Math.Max(1, Int()); break;
                case "--batch-rows": o.BatchRows = Math.Max(1, Int()); break;
                case "--budget": o.Budget = Math.Max(0, Int()); break;
                case "--server-timeout": o.ServerTimeout = TimeSpan.FromSeconds(Math.Max(1, Int())); break;
                case "--json-out": o.JsonOut = Next(); break;
                case "--old-max-rows": o.OldMaxRows = Int(); break;
                case "--keep-free-gb": o.KeepFreeGiB = Int(); break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default: throw new ArgumentException($"unknown flag '{a}'\n{Usage}");
            }
        }
        return o;
    }
}
