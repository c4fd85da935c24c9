using System.Globalization;
using System.Text;
using Apache.Arrow;
using Apache.Arrow.Types;
using DuckDB.NET.Native;
using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// The selections a DoGet ticket can express, recognised in SQL and read from the lake's own read path instead of the
/// engine (docs/decisions.md D47): one table, a projection of its columns, <c>symbol</c> equal to or in a list of
/// literals, the date column compared with literals, optionally <c>ORDER BY symbol[, date]</c> and <c>LIMIT n</c>.
/// <para>
/// The rows are the engine's: the same version (<see cref="Storage.LakeStore.TryReadOneVersion"/> reads one committed
/// version, or the query goes to the engine), the same schema (<see cref="ServedSchema"/> is what the engine describes for
/// the same columns, tests compare them), the same values. Anything else, or anything this parser is not sure of, is
/// left to the engine: a name in another case than the catalogue's, an alias, <c>OR</c>, parentheses, a cast, a
/// comment other than a leading one, a symbol that is not written as the lake stores it, a date not written YYYY-MM-DD,
/// a range that is empty, <c>LIMIT 0</c>. Parameters (<c>?</c>, <c>$n</c>) stand where a literal may.
/// </para>
/// </summary>
internal static class SqlFastPath
{
    /// <summary>A recognised selection: the read that answers it and the schema the engine would answer with.</summary>
    internal sealed record Plan(TableQuery Query, Schema Schema);

    /// <summary>The read and schema of <paramref name="sql"/>, or null when the engine must answer it.</summary>
    public static Plan? TryPlan(string sql, IReadOnlyList<object?> parameters, TableCatalog catalog)
    {
        try
        {
            // What the engine path refuses before it runs anything (its guard's words, even inside a literal) it refuses here too.
            SqlGuard.Check(sql);
            var tokens = Tokenize(sql);
            return tokens is null ? null : new Parser(tokens, parameters, catalog).Parse();
        }
        catch (LakehouseException)
        {
            // The ticket would be refused (a bad name, a date range the wrong way round), or the guard refuses the statement:
            // the engine path says what it says of it.
            return null;
        }
    }

    /// <summary>What the engine describes for these columns of the table: its types for the lake's Arrow types, nullable, typed by name.</summary>
    internal static Schema ServedSchema(Schema tableColumns) =>
        DuckArrow.SchemaOf(tableColumns.FieldsList.Select(f => (f.Name, EngineTypeOf(f.DataType))).ToArray());

    private static DuckDBType EngineTypeOf(IArrowType type) => type switch
    {
        StringType => DuckDBType.Varchar,
        Date32Type => DuckDBType.Date,
        DoubleType => DuckDBType.Double,
        FloatType => DuckDBType.Float,
        Int64Type => DuckDBType.BigInt,
        Int32Type => DuckDBType.Integer,
        BooleanType => DuckDBType.Boolean,
        TimestampType { Unit: TimeUnit.Microsecond, Timezone: "UTC" } => DuckDBType.TimestampTz,
        _ => throw LakehouseException.Invalid($"no fast path for Arrow {type.Name}"),
    };

    private enum Kind
    {
        Word,
        Quoted,
        String,
        Number,
        Parameter,
        Symbol,
    }

    private readonly record struct Token(Kind Kind, string Text, int Parameter = 0);

    /// <summary>The statement's tokens, leading comments left out (the as-of hint is read elsewhere); null for anything unexpected.</summary>
    private static List<Token>? Tokenize(string sql)
    {
        var tokens = new List<Token>();
        var i = 0;
        var implicitParameters = 0;
        while (i < sql.Length)
        {
            var c = sql[i];
            // The engine's lexer's whitespace only (a vertical tab or U+2028 is its syntax error, not a space).
            if (c is ' ' or '\t' or '\n' or '\r' or '\f')
            {
                i++;
                continue;
            }
            if (c == '-' && i + 1 < sql.Length && sql[i + 1] == '-')
            {
                if (tokens.Count > 0)
                {
                    return null;
                }
                while (i < sql.Length && sql[i] is not ('\n' or '\r'))
                {
                    i++;
                }
                continue;
            }
            if (c == '/' && i + 1 < sql.Length && sql[i + 1] == '*')
            {
                var end = sql.IndexOf("*/", i + 2, StringComparison.Ordinal);
                // The engine nests block comments: one holding another opening is left to it.
                if (tokens.Count > 0 || end < 0 || sql.IndexOf("/*", i + 2, end - i - 2, StringComparison.Ordinal) >= 0)
                {
                    return null;
                }
                i = end + 2;
                continue;
            }
            if (char.IsAsciiLetter(c) || c == '_')
            {
                var start = i;
                while (i < sql.Length && (char.IsAsciiLetterOrDigit(sql[i]) || sql[i] == '_'))
                {
                    i++;
                }
                tokens.Add(new Token(Kind.Word, sql[start..i]));
                continue;
            }
            if (char.IsAsciiDigit(c))
            {
                var start = i;
                while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                {
                    i++;
                }
                if (i < sql.Length && (char.IsAsciiLetter(sql[i]) || sql[i] is '.' or '_'))
                {
                    return null;
                }
                tokens.Add(new Token(Kind.Number, sql[start..i]));
                continue;
            }
            if (c is '\'' or '"')
            {
                var text = new StringBuilder();
                i++;
                while (true)
                {
                    if (i >= sql.Length)
                    {
                        return null;
                    }
                    if (sql[i] == c)
                    {
                        if (i + 1 < sql.Length && sql[i + 1] == c)
                        {
                            text.Append(c);
                            i += 2;
                            continue;
                        }
                        i++;
                        break;
                    }
                    text.Append(sql[i++]);
                }
                tokens.Add(new Token(c == '\'' ? Kind.String : Kind.Quoted, text.ToString()));
                continue;
            }
            if (c == '?')
            {
                tokens.Add(new Token(Kind.Parameter, "?", ++implicitParameters));
                i++;
                continue;
            }
            if (c == '$')
            {
                var start = ++i;
                while (i < sql.Length && char.IsAsciiDigit(sql[i]))
                {
                    i++;
                }
                if (i == start || i - start > 4 || (i < sql.Length && (char.IsAsciiLetter(sql[i]) || sql[i] == '_')))
                {
                    return null;
                }
                tokens.Add(new Token(Kind.Parameter, sql[(start - 1)..i], int.Parse(sql[start..i], CultureInfo.InvariantCulture)));
                continue;
            }
            if (c is '>' or '<' && i + 1 < sql.Length && sql[i + 1] == '=')
            {
                tokens.Add(new Token(Kind.Symbol, sql.Substring(i, 2)));
                i += 2;
                continue;
            }
            if (c is '*' or ',' or '.' or '(' or ')' or '=' or '<' or '>' or ';')
            {
                tokens.Add(new Token(Kind.Symbol, c.ToString()));
                i++;
                continue;
            }
            return null;
        }
        // Trailing semicolons end the statement; anything after one is a second statement, for the engine to refuse.
        while (tokens.Count > 0 && tokens[^1] is { Kind: Kind.Symbol, Text: ";" })
        {
            tokens.RemoveAt(tokens.Count - 1);
        }
        if (tokens.Any(t => t is { Kind: Kind.Symbol, Text: ";" }))
        {
            return null;
        }
        // Positional and numbered parameters mixed: the engine's rules, not ours.
        return tokens.Any(t => t.Kind == Kind.Parameter && t.Text == "?") && tokens.Any(t => t.Kind == Kind.Parameter && t.Text != "?") ? null : tokens;
    }

    private sealed class Parser(List<Token> tokens, IReadOnlyList<object?> parameters, TableCatalog catalog)
    {
        private int _at;
        private readonly HashSet<int> _used = [];

        public Plan? Parse()
        {
            if (!Keyword("SELECT"))
            {
                return null;
            }
            var columns = new List<string>();
            if (!Punct("*"))
            {
                do
                {
                    // Only the catalogue's own spelling (lower case): what the engine names the output column is then certain.
                    if (Name(exact: true) is not { } column || columns.Contains(column))
                    {
                        return null;
                    }
                    columns.Add(column);
                }
                while (Punct(","));
            }
            if (!Keyword("FROM") || TableName() is not { } table)
            {
                return null;
            }
            if (columns.Any(c => table.Schema.GetFieldIndex(c) < 0))
            {
                return null;
            }
            string[]? symbols = null;
            DateOnly? from = null, to = null;
            if (Keyword("WHERE"))
            {
                do
                {
                    if (Name(exact: false) is not { } column)
                    {
                        return null;
                    }
                    if (column == TableDefinition.SymbolColumn)
                    {
                        if (SymbolPredicate() is not { } these)
                        {
                            return null;
                        }
                        symbols = symbols is null ? these : [.. symbols.Intersect(these, StringComparer.Ordinal)];
                    }
                    else if (column == table.DateColumn)
                    {
                        if (!DatePredicate(ref from, ref to))
                        {
                            return null;
                        }
                    }
                    else
                    {
                        return null;
                    }
                }
                while (Keyword("AND"));
            }
            if (symbols is { Length: 0 } || (from is { } f && to is { } t && f > t))
            {
                // Nothing can match: the engine answers that as fast as we would, with no ticket to stretch.
                return null;
            }
            var singleSymbol = symbols is { Length: 1 };
            if (Keyword("ORDER"))
            {
                if (!Keyword("BY") || !OrderBy(table, singleSymbol))
                {
                    return null;
                }
            }
            long limit = 0;
            if (Keyword("LIMIT"))
            {
                if (Next() is not { Kind: Kind.Number } n || !long.TryParse(n.Text, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit <= 0)
                {
                    return null;
                }
            }
            if (_at != tokens.Count || _used.Count != parameters.Count)
            {
                // Something left over, or a parameter given that the statement does not use: the engine's error.
                return null;
            }
            var query = TableQuery.Create(Layers.Name(table.Layer), table.Name, symbols, from?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture),
                to?.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), columns, limit);
            var (_, schema) = catalog.Resolve(query);
            return new Plan(query, ServedSchema(schema));
        }

        private string[]? SymbolPredicate()
        {
            if (Punct("="))
            {
                return Symbol() is { } one ? [one] : null;
            }
            if (!Keyword("IN") || !Punct("("))
            {
                return null;
            }
            var list = new List<string>();
            do
            {
                if (Symbol() is not { } s)
                {
                    return null;
                }
                list.Add(s);
            }
            while (Punct(","));
            return Punct(")") ? [.. list.Distinct(StringComparer.Ordinal)] : null;
        }

        /// <summary>A symbol literal exactly as the lake stores symbols (the engine compares strings exactly).</summary>
        private string? Symbol() =>
            Value() is string s && Symbols.TryNormalize(s, out var normalized, out _) && normalized == s ? s : null;

        private bool DatePredicate(ref DateOnly? from, ref DateOnly? to)
        {
            if (Keyword("BETWEEN"))
            {
                if (Date() is not { } low || !Keyword("AND") || Date() is not { } high)
                {
                    return false;
                }
                from = Later(from, low);
                to = Earlier(to, high);
                return true;
            }
            if (Next() is not { Kind: Kind.Symbol } op || Date() is not { } d)
            {
                return false;
            }
            switch (op.Text)
            {
                case "=":
                    from = Later(from, d);
                    to = Earlier(to, d);
                    return true;
                case ">=":
                    from = Later(from, d);
                    return true;
                case ">" when d < DateOnly.MaxValue:
                    from = Later(from, d.AddDays(1));
                    return true;
                case "<=":
                    to = Earlier(to, d);
                    return true;
                case "<" when d > DateOnly.MinValue:
                    to = Earlier(to, d.AddDays(-1));
                    return true;
                default:
                    return false;
            }
        }

        private static DateOnly Later(DateOnly? a, DateOnly b) => a is { } x && x > b ? x : b;

        private static DateOnly Earlier(DateOnly? a, DateOnly b) => a is { } x && x < b ? x : b;

        /// <summary>A date: <c>DATE 'YYYY-MM-DD'</c>, <c>'YYYY-MM-DD'</c> (the engine casts it to the column's type), or a parameter bound to a date.</summary>
        private DateOnly? Date()
        {
            // DATE is also the date column's name: it is the literal's type only when a string follows.
            var typed = Peek() is { Kind: Kind.Word } w && Is(w, "DATE") && _at + 1 < tokens.Count && tokens[_at + 1].Kind == Kind.String;
            if (typed)
            {
                _at++;
            }
            var value = Value();
            if (typed && value is not string)
            {
                return null;
            }
            return value switch
            {
                string s when s.Length == 10 && DateOnly.TryParseExact(s, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out var d) => d,
                DateOnly d when !typed => d,
                _ => null,
            };
        }

        /// <summary>A string literal, or the value bound to a parameter (null when neither).</summary>
        private object? Value()
        {
            if (Next() is not { } token)
            {
                return null;
            }
            if (token.Kind == Kind.String)
            {
                return token.Text;
            }
            if (token.Kind == Kind.Parameter && token.Parameter >= 1 && token.Parameter <= parameters.Count)
            {
                _used.Add(token.Parameter);
                return parameters[token.Parameter - 1];
            }
            return null;
        }

        /// <summary><c>ORDER BY</c> the read's own order: symbol, then date (date alone for one symbol), ascending.</summary>
        private bool OrderBy(TableDefinition table, bool singleSymbol)
        {
            if (table.PerSource || table.Key.Count != 2)
            {
                return false;
            }
            var keys = new List<string>();
            do
            {
                if (Name(exact: false) is not { } column)
                {
                    return false;
                }
                Keyword("ASC");
                if (Peek() is { Kind: Kind.Word } w && (Is(w, "DESC") || Is(w, "NULLS")))
                {
                    return false;
                }
                keys.Add(column);
            }
            while (Punct(","));
            var date = table.DateColumn;
            return keys.Count switch
            {
                1 => keys[0] == TableDefinition.SymbolColumn || (keys[0] == date && singleSymbol),
                2 => keys[0] == TableDefinition.SymbolColumn && keys[1] == date,
                _ => false,
            };
        }

        /// <summary><c>[lakehouse.]layer.table</c>, each part bare (any case) or quoted; the catalogue's table, or null.</summary>
        private TableDefinition? TableName()
        {
            var parts = new List<string>();
            do
            {
                if (Name(exact: false) is not { } part)
                {
                    return null;
                }
                parts.Add(part);
            }
            while (Punct("."));
            if (parts.Count == 3 && parts[0] == SqlEngine.Catalog)
            {
                parts.RemoveAt(0);
            }
            return parts.Count == 2 && parts[0] is ("bronze" or "silver" or "gold") ? catalog.Find(Layers.Parse(parts[0]), parts[1]) : null;
        }

        /// <summary>
        /// An identifier: bare, or quoted. With <paramref name="exact"/> only as the catalogue spells it (lower case), so the
        /// output column's name is what the engine would give; otherwise lower-cased (the engine resolves names without case).
        /// </summary>
        private string? Name(bool exact)
        {
            if (Peek() is not { } token || token.Kind is not (Kind.Word or Kind.Quoted) || (token.Kind == Kind.Word && Reserved.Contains(token.Text)))
            {
                return null;
            }
            _at++;
            var lower = token.Text.ToLowerInvariant();
            return exact && lower != token.Text ? null : lower;
        }

        private static readonly HashSet<string> Reserved = new(StringComparer.OrdinalIgnoreCase)
        {
            "SELECT", "FROM", "WHERE", "AND", "OR", "NOT", "IN", "BETWEEN", "ORDER", "BY", "LIMIT", "OFFSET", "AS", "ASC", "DESC",
            "GROUP", "HAVING", "UNION", "EXCEPT", "INTERSECT", "DISTINCT", "ALL", "JOIN", "ON", "USING", "QUALIFY", "WINDOW", "SAMPLE",
            "TABLESAMPLE", "NULLS", "IS", "NULL", "LIKE", "ILIKE", "CASE", "WITH", "EXCLUDE", "REPLACE", "COLUMNS", "FILTER", "OVER",
            "CROSS", "NATURAL", "POSITIONAL", "ASOF", "LEFT", "RIGHT", "FULL", "INNER", "OUTER", "SEMI", "ANTI", "PIVOT", "UNPIVOT",
        };

        private bool Keyword(string word)
        {
            if (Peek() is { Kind: Kind.Word } t && Is(t, word))
            {
                _at++;
                return true;
            }
            return false;
        }

        private static bool Is(Token t, string word) => t.Text.Equals(word, StringComparison.OrdinalIgnoreCase);

        private bool Punct(string symbol)
        {
            if (Peek() is { Kind: Kind.Symbol } t && t.Text == symbol)
            {
                _at++;
                return true;
            }
            return false;
        }

        private Token? Peek() => _at < tokens.Count ? tokens[_at] : null;

        private Token? Next() => _at < tokens.Count ? tokens[_at++] : null;
    }
}
