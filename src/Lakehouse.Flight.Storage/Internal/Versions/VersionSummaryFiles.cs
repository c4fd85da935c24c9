using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Lakehouse.Flight.Storage.Internal;

/// <summary>
/// What one version did, as the version listing and the readable-version bookkeeping need it: the summary shown, and
/// per table (aligned with <see cref="VersionSummary.Tables"/>) the files added and removed, and the files a vacuum
/// expired. A log entry without its reports and file statistics.
/// </summary>
internal sealed record VersionRecord(VersionSummary Summary, string[][] Added, string[][] Removed, string[] Expired);

/// <summary>
/// The version summaries of the commit log, <see cref="LakeLog.CheckpointInterval"/> versions a file
/// (<c>_metadata/log/summaries/&lt;last version, 20 digits&gt;.json</c>, versions last - 99 .. last), so a listing in a fresh
/// process reads one small file per hundred versions instead of every entry (docs/decisions.md D38). The entries stay
/// the truth: a summary is derived from them (entries never change, so it never goes stale), written whole (temp,
/// flush, rename; the same bytes whoever writes it), and one that is missing, torn or does not describe exactly its
/// hundred versions is rebuilt from the entries. On object storage each is one immutable object written once; the
/// commit stays one conditional put of its entry.
/// </summary>
internal sealed class VersionSummaryFiles(LakeLog log)
{
    public string Dir { get; } = Path.Combine(log.Dir, "summaries");

    public string PathOf(long last) => Path.Combine(Dir, last.ToString("D20", CultureInfo.InvariantCulture) + ".json");

    /// <summary>Summaries built from entries because their file was missing or unusable (tests).</summary>
    public long Rebuilt => Interlocked.Read(ref _rebuilt);

    private long _rebuilt;

    /// <summary>The last version of the summary file holding <paramref name="version"/>.</summary>
    public static long LastOf(long version) => (version + LakeLog.CheckpointInterval - 1) / LakeLog.CheckpointInterval * LakeLog.CheckpointInterval;

    /// <summary>
    /// Versions <paramref name="last"/> - 99 .. <paramref name="last"/> (all committed), from their summary file, or from
    /// the entries when it is missing or unusable (then written, when the lake is writable).
    /// </summary>
    public VersionRecord[] Load(long last)
    {
        if (TryRead(last) is { } records)
        {
            return records;
        }
        Interlocked.Increment(ref _rebuilt);
        records = Build(last);
        TryWrite(last, records);
        return records;
    }

    /// <summary>
    /// Writes the summary files missing for the versions up to <paramref name="latest"/>, newest first, until one exists
    /// (a checkpoint's background step: the next listing of a fresh process finds them). Returns how many it wrote.
    /// </summary>
    public int WriteMissing(long latest)
    {
        var written = 0;
        for (var last = latest / LakeLog.CheckpointInterval * LakeLog.CheckpointInterval; last > 0; last -= LakeLog.CheckpointInterval)
        {
            if (File.Exists(PathOf(last)))
            {
                break;
            }
            VersionRecord[] records;
            try
            {
                records = Build(last);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or JsonException)
            {
                // An entry that cannot be read now: the listing that needs it builds the summary (or says why).
                break;
            }
            if (TryWrite(last, records))
            {
                written++;
            }
        }
        return written;
    }

    /// <summary>The records of one interval from the entries.</summary>
    private VersionRecord[] Build(long last)
    {
        var records = new List<VersionRecord>(LakeLog.CheckpointInterval);
        for (var v = last - LakeLog.CheckpointInterval + 1; v <= last; v++)
        {
            if (log.Exists(v))
            {
                records.Add(VersionHistory.Summarize(log.Read(v)));
            }
        }
        return [.. records];
    }

    /// <summary>The records of a summary file, or null when it is missing, cannot be parsed, or does not hold exactly its interval's versions.</summary>
    internal VersionRecord[]? TryRead(long last)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(PathOf(last));
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null;
        }
        try
        {
            return Decode(Parse(bytes), last);
        }
        catch (Exception ex) when (ex is JsonException or InvalidDataException or IndexOutOfRangeException or ArgumentException or NullReferenceException)
        {
            return null;
        }
    }

    private bool TryWrite(long last, VersionRecord[] records)
    {
        try
        {
            var bytes = JsonSerializer.SerializeToUtf8Bytes(Encode(last, records), SummaryJson.Default.SummaryFile);
            var path = PathOf(last);
            var temp = DurableFile.WriteTemp(path, s => s.Write(bytes));
            // The temp of a writer killed before this rename is swept at the next open (LakeStore.SweepOrphans).
            File.Move(temp, path, overwrite: true);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // A read-only lake, a full disk: the next listing builds it from the entries again.
            return false;
        }
    }

    private static SummaryFile Encode(long last, VersionRecord[] records)
    {
        var names = new List<string>();
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        int Name(string s)
        {
            if (!index.TryGetValue(s, out var i))
            {
                index[s] = i = names.Count;
                names.Add(s);
            }
            return i;
        }
        // Consecutive versions mostly touch the same symbols (a daily append touches every symbol): each list once.
        var lists = new List<int[]>();
        var listIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        int List(string[] items)
        {
            var positions = items.Select(Name).ToArray();
            var key = string.Join(',', positions);
            if (!listIndex.TryGetValue(key, out var i))
            {
                listIndex[key] = i = lists.Count;
                lists.Add(positions);
            }
            return i;
        }
        var versions = records.Select(r => new VersionLine
        {
            V = r.Summary.Version,
            Ts = r.Summary.Ts.UtcTicks,
            Op = r.Summary.Operation,
            Run = r.Summary.RunId,
            Tables = [.. r.Summary.Tables.Select((t, i) => new TableLine
            {
                T = Name(t.Table),
                Sym = List(t.Symbols),
                Src = List(t.Sources),
                Ins = t.Inserted,
                Upd = t.Updated,
                Unch = t.Unchanged,
                Rej = t.Rejected,
                Add = r.Added[i],
                Rm = r.Removed[i],
            })],
            Expired = r.Expired.Length == 0 ? null : r.Expired,
        }).ToArray();
        return new SummaryFile
        {
            From = last - LakeLog.CheckpointInterval + 1,
            To = last,
            Count = versions.Length,
            Names = [.. names],
            Lists = [.. lists],
            Versions = versions,
        };
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static VersionRecord[] Decode(SummaryFile file, long last)
    {
        var from = last - LakeLog.CheckpointInterval + 1;
        if (file.From != from || file.To != last || file.Versions.Length != file.Count || file.Count > LakeLog.CheckpointInterval)
        {
            throw new InvalidDataException("a version summary file that does not describe its interval");
        }
        var records = new VersionRecord[file.Versions.Length];
        // One array per distinct list, shared by every version that names it.
        var lists = file.Lists.Select(l => l.Select(n => file.Names[n]).ToArray()).ToArray();
        var previous = from - 1;
        for (var i = 0; i < records.Length; i++)
        {
            var line = file.Versions[i];
            if (line.V <= previous || line.V > last)
            {
                throw new InvalidDataException("a version summary file whose versions are out of order");
            }
            previous = line.V;
            var tables = new TableVersionSummary[line.Tables.Length];
            var added = new string[line.Tables.Length][];
            var removed = new string[line.Tables.Length][];
            for (var t = 0; t < tables.Length; t++)
            {
                var table = line.Tables[t];
                added[t] = table.Add;
                removed[t] = table.Rm;
                tables[t] = new TableVersionSummary(file.Names[table.T], lists[table.Sym], lists[table.Src], table.Ins, table.Upd, table.Unch, table.Rej,
                    table.Add.Length, table.Rm.Length);
            }
            records[i] = new VersionRecord(new VersionSummary(line.V, new DateTimeOffset(line.Ts, TimeSpan.Zero), line.Op, line.Run, tables),
                added, removed, line.Expired ?? []);
        }
        return records;
    }

    // The parse runs once per file in a fresh process, a hundred thousand versions at once: compiled optimized from
    // the start (AggressiveOptimization), not first as unoptimized tier-0 code.

    /// <summary>
    /// A summary file read with the JSON reader directly (a hundred thousand versions are a thousand files: the
    /// serializer's object model made the first listing of a process several times slower and allocated the difference).
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static SummaryFile Parse(ReadOnlySpan<byte> json)
    {
        var reader = new Utf8JsonReader(json);
        var file = new SummaryFile();
        var scratch = new List<string>();
        Expect(ref reader, JsonTokenType.StartObject);
        while (Property(ref reader) is { } name)
        {
            switch (name)
            {
                case "from": file.From = Long(ref reader); break;
                case "to": file.To = Long(ref reader); break;
                case "count": file.Count = (int)Long(ref reader); break;
                case "names": file.Names = Strings(ref reader, scratch); break;
                case "lists": file.Lists = Lists(ref reader); break;
                case "versions": file.Versions = Versions(ref reader, scratch); break;
                default: reader.Skip(); break;
            }
        }
        return file;
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static VersionLine[] Versions(ref Utf8JsonReader reader, List<string> scratch)
    {
        Expect(ref reader, JsonTokenType.StartArray);
        var versions = new List<VersionLine>(LakeLog.CheckpointInterval);
        var operations = new Dictionary<string, string>(StringComparer.Ordinal);
        while (Next(ref reader) == JsonTokenType.StartObject)
        {
            var line = new VersionLine();
            while (Property(ref reader) is { } name)
            {
                switch (name)
                {
                    case "v": line.V = Long(ref reader); break;
                    case "ts": line.Ts = Long(ref reader); break;
                    case "op":
                        var op = String(ref reader) ?? "";
                        line.Op = operations.TryGetValue(op, out var kept) ? kept : operations[op] = op;
                        break;
                    case "run": line.Run = String(ref reader); break;
                    case "tables": line.Tables = Tables(ref reader, scratch); break;
                    case "expired": line.Expired = Strings(ref reader, scratch); break;
                    default: reader.Skip(); break;
                }
            }
            versions.Add(line);
        }
        Check(reader.TokenType == JsonTokenType.EndArray);
        return [.. versions];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static TableLine[] Tables(ref Utf8JsonReader reader, List<string> scratch)
    {
        Expect(ref reader, JsonTokenType.StartArray);
        // Mostly one table a version: no list for that.
        TableLine? single = null;
        List<TableLine>? tables = null;
        while (Next(ref reader) == JsonTokenType.StartObject)
        {
            var line = new TableLine();
            while (Property(ref reader) is { } name)
            {
                switch (name)
                {
                    case "t": line.T = (int)Long(ref reader); break;
                    case "sym": line.Sym = (int)Long(ref reader); break;
                    case "src": line.Src = (int)Long(ref reader); break;
                    case "ins": line.Ins = Long(ref reader); break;
                    case "upd": line.Upd = Long(ref reader); break;
                    case "unch": line.Unch = Long(ref reader); break;
                    case "rej": line.Rej = Long(ref reader); break;
                    case "add": line.Add = Strings(ref reader, scratch); break;
                    case "rm": line.Rm = Strings(ref reader, scratch); break;
                    default: reader.Skip(); break;
                }
            }
            if (single is null)
            {
                single = line;
            }
            else
            {
                (tables ??= [single]).Add(line);
            }
        }
        Check(reader.TokenType == JsonTokenType.EndArray);
        return tables is not null ? [.. tables] : single is null ? [] : [single];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static int[][] Lists(ref Utf8JsonReader reader)
    {
        Expect(ref reader, JsonTokenType.StartArray);
        var lists = new List<int[]>();
        var items = new List<int>();
        while (Next(ref reader) == JsonTokenType.StartArray)
        {
            items.Clear();
            while (Next(ref reader) == JsonTokenType.Number)
            {
                items.Add(reader.GetInt32());
            }
            Check(reader.TokenType == JsonTokenType.EndArray);
            lists.Add([.. items]);
        }
        Check(reader.TokenType == JsonTokenType.EndArray);
        return [.. lists];
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static string[] Strings(ref Utf8JsonReader reader, List<string> scratch)
    {
        Expect(ref reader, JsonTokenType.StartArray);
        scratch.Clear();
        while (Next(ref reader) == JsonTokenType.String)
        {
            scratch.Add(reader.GetString()!);
        }
        Check(reader.TokenType == JsonTokenType.EndArray);
        return scratch.Count == 0 ? [] : [.. scratch];
    }

    /// <summary>The next property's name (the reader then on its value's first token), or null at the end of the object.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static string? Property(ref Utf8JsonReader reader)
    {
        if (Next(ref reader) == JsonTokenType.EndObject)
        {
            return null;
        }
        Check(reader.TokenType == JsonTokenType.PropertyName && !reader.ValueIsEscaped);
        var name = KnownName(reader.ValueSpan);
        Next(ref reader);
        return name;
    }

    /// <summary>A property name of the format as a literal (no string per property read), "?" for any other.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static string KnownName(ReadOnlySpan<byte> name)
    {
        foreach (var known in PropertyNames)
        {
            if (name.SequenceEqual(known.Utf8))
            {
                return known.Name;
            }
        }
        return "?";
    }

    private static readonly (byte[] Utf8, string Name)[] PropertyNames = [.. new[]
    {
        "v", "ts", "op", "run", "tables", "t", "sym", "src", "ins", "upd", "unch", "rej", "add", "rm", "expired", "from", "to", "count", "names",
        "lists", "versions",
    }.Select(n => (System.Text.Encoding.UTF8.GetBytes(n), n))];

    private static long Long(ref Utf8JsonReader reader)
    {
        Check(reader.TokenType == JsonTokenType.Number);
        return reader.GetInt64();
    }

    private static string? String(ref Utf8JsonReader reader)
    {
        Check(reader.TokenType is JsonTokenType.String or JsonTokenType.Null);
        return reader.GetString();
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType token)
    {
        if (reader.TokenType != token)
        {
            Check(Next(ref reader) == token);
        }
    }

    private static JsonTokenType Next(ref Utf8JsonReader reader)
    {
        Check(reader.Read());
        return reader.TokenType;
    }

    private static void Check(bool condition)
    {
        if (!condition)
        {
            throw new InvalidDataException("a version summary file that is not whole");
        }
    }

    internal sealed class SummaryFile
    {
        [JsonPropertyName("from")] public long From { get; set; }

        [JsonPropertyName("to")] public long To { get; set; }

        [JsonPropertyName("count")] public int Count { get; set; }

        /// <summary>Each table, symbol and source name once; the versions name them by position.</summary>
        [JsonPropertyName("names")] public string[] Names { get; set; } = [];

        /// <summary>Each distinct list of symbols or sources once, as positions in <see cref="Names"/>; the versions name them by position.</summary>
        [JsonPropertyName("lists")] public int[][] Lists { get; set; } = [];

        [JsonPropertyName("versions")] public VersionLine[] Versions { get; set; } = [];
    }

    internal sealed class VersionLine
    {
        [JsonPropertyName("v")] public long V { get; set; }

        /// <summary>Commit time, UTC ticks (exact; the entry's is whole milliseconds).</summary>
        [JsonPropertyName("ts")] public long Ts { get; set; }

        [JsonPropertyName("op")] public string Op { get; set; } = "";

        [JsonPropertyName("run")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string? Run { get; set; }

        [JsonPropertyName("tables")] public TableLine[] Tables { get; set; } = [];

        [JsonPropertyName("expired")]
        [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
        public string[]? Expired { get; set; }
    }

    internal sealed class TableLine
    {
        [JsonPropertyName("t")] public int T { get; set; }

        /// <summary>The symbols whose rows changed: a position in <see cref="SummaryFile.Lists"/>.</summary>
        [JsonPropertyName("sym")] public int Sym { get; set; }

        /// <summary>The sources of the StorageReports: a position in <see cref="SummaryFile.Lists"/>.</summary>
        [JsonPropertyName("src")] public int Src { get; set; }

        [JsonPropertyName("ins")] public long Ins { get; set; }

        [JsonPropertyName("upd")] public long Upd { get; set; }

        [JsonPropertyName("unch")] public long Unch { get; set; }

        [JsonPropertyName("rej")] public long Rej { get; set; }

        [JsonPropertyName("add")] public string[] Add { get; set; } = [];

        [JsonPropertyName("rm")] public string[] Rm { get; set; } = [];
    }
}

[JsonSerializable(typeof(VersionSummaryFiles.SummaryFile))]
internal sealed partial class SummaryJson : JsonSerializerContext;
