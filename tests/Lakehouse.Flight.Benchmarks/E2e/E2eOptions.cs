using System.Globalization;

namespace Lakehouse.Flight.Benchmarks.E2e;

/// <summary>Flags of <c>e2e</c>; every size is a flag so CI can run a tiny universe in seconds.</summary>
internal sealed class E2eOptions
{
    public int Symbols { get; private set; } = 500;
    public int Years { get; private set; } = 20;
    public int LastYear { get; private set; } = 2024;
    public int PointQueries { get; private set; } = 1000;
    public int Streams { get; private set; } = 4;
    public int PutSymbols { get; private set; } = 50;
    public int PutYears { get; private set; } = 2;
    public int ChunkSymbols { get; private set; } = 10;
    public int CurlScans { get; private set; } = 7;
    public string? DataDir { get; private set; }
    public bool Reuse { get; private set; }
    public bool Keep { get; private set; }
    public bool SkipDuckDb { get; private set; }
    public bool SkipServer { get; private set; }
    public int ScanCacheMiB { get; private set; }
    public string? ServerDll { get; private set; }
    public TimeSpan ServerStartTimeout { get; private set; } = TimeSpan.FromSeconds(120);

    public DateOnly From => new(LastYear - Years + 1, 1, 1);
    public DateOnly To => new(LastYear, 12, 31);

    public const string Usage = """
        usage: e2e [--symbols 500] [--years 20] [--last-year 2024] [--point-queries 1000] [--streams 4]
                   [--put-symbols 50] [--put-years 2] [--chunk-symbols 10] [--curl-scans 7]
                   [--data-dir D [--reuse] [--keep]] [--server-dll path/lakehouse.dll] [--server-timeout 120]
                   [--skip-duckdb] [--skip-server] [--scan-cache-mb N (default: a quarter of the lake)]
        """;

    public static E2eOptions Parse(IReadOnlyList<string> args)
    {
        var o = new E2eOptions();
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
                case "--point-queries": o.PointQueries = Math.Max(1, Int()); break;
                case "--streams": o.Streams = Math.Max(1, Int()); break;
                case "--put-symbols": o.PutSymbols = Int(); break;
                case "--put-years": o.PutYears = Math.Max(1, Int()); break;
                case "--chunk-symbols": o.ChunkSymbols = Math.Max(1, Int()); break;
                case "--curl-scans": o.CurlScans = Math.Max(1, Int()); break;
                case "--data-dir": o.DataDir = Next(); break;
                case "--reuse": o.Reuse = true; break;
                case "--keep": o.Keep = true; break;
                case "--skip-duckdb": o.SkipDuckDb = true; break;
                case "--skip-server": o.SkipServer = true; break;
                case "--scan-cache-mb": o.ScanCacheMiB = Int(); break;
                case "--server-dll": o.ServerDll = Next(); break;
                case "--server-timeout": o.ServerStartTimeout = TimeSpan.FromSeconds(Math.Max(1, Int())); break;
                case "-h" or "--help": throw new ArgumentException(Usage);
                default: throw new ArgumentException($"unknown flag '{a}'\n{Usage}");
            }
        }
        return o;
    }
}
