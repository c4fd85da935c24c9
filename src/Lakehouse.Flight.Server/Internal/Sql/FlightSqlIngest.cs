using Lakehouse.Flight.Core;
using Lakehouse.Flight.Core.Tables;
using Lakehouse.Flight.Protocol.Sql;
using Lakehouse.Flight.Storage;
using static Lakehouse.Flight.Protocol.Sql.CommandStatementIngest.Types.TableDefinitionOptions.Types;

namespace Lakehouse.Flight.Server.Internal.Sql;

/// <summary>
/// Where a Flight SQL bulk ingest (<c>CommandStatementIngest</c>) lands (decisions D41): the tables a DoPut upload lands
/// in, named as SQL names them (<c>bronze.prices_daily</c>; a silver table without a bronze one, such as
/// <c>silver.corporate_actions</c>), appended to (rows upserted by key, as an upload's are). What the lake cannot honour
/// (another table, creating or replacing one, temporary tables, transactions, unknown options) is refused before a row is
/// read, naming what is allowed.
/// </summary>
internal static class FlightSqlIngest
{
    /// <summary>Option naming the bronze source the rows land under (an upload's <c>source</c>).</summary>
    public const string SourceOption = "source";

    /// <summary>Option <c>true</c>: also upsert the rows into silver in the same run (an upload's <c>promote</c>).</summary>
    public const string PromoteOption = "promote";

    /// <summary>The source of rows ingested without a <see cref="SourceOption"/>.</summary>
    public const string DefaultSource = "flight_sql";

    /// <summary>Where the rows go: the landing table, the silver table <c>promote</c> also writes (or null), and the source.</summary>
    internal sealed record Target(TableDefinition Landing, TableDefinition? Promoted, string Source);

    public static Target Resolve(CommandStatementIngest command, TableCatalog catalog)
    {
        var targets = Targets(catalog);
        var allowed = string.Join(", ", targets.Select(t => SqlName(t.Landing)));
        if (command.HasTransactionId)
        {
            throw LakehouseException.Invalid("transactions are not served: ingest without a transaction_id (each ingest is applied as one run of atomic commits)");
        }
        if (command.Temporary)
        {
            throw LakehouseException.Invalid($"temporary tables are not served: ingest into one of the lake's tables ({allowed}) with temporary = false");
        }
        var definition = command.TableDefinitionOptions;
        if (definition is null || definition.IfExists != TableExistsOption.Append || definition.IfNotExist == TableNotExistOption.Unspecified)
        {
            var got = definition is null ? "none" : $"if_not_exist {definition.IfNotExist}, if_exists {definition.IfExists}";
            throw LakehouseException.Invalid(
                $"table_definition_options must be if_exists = TABLE_EXISTS_OPTION_APPEND and if_not_exist = FAIL or CREATE (got {got}): the lake's tables "
                + "always exist and ingested rows are upserted by key; replacing or creating tables is not served (ADBC: mode adbc.ingest.mode.append)");
        }
        var name = TableName(command, allowed);
        var target = targets.FirstOrDefault(t => SqlName(t.Landing) == name);
        if (target is null)
        {
            var hint = targets.FirstOrDefault(t => t.Promoted is not null && SqlName(t.Promoted) == name) is { } viaBronze
                ? $"; {name} is written by ingesting into {SqlName(viaBronze.Landing)} with the option {PromoteOption}=true"
                : "";
            throw LakehouseException.Invalid($"cannot ingest into '{name}': ingest into one of {allowed}{hint}");
        }
        string? source = null;
        var promote = false;
        foreach (var (key, value) in command.Options)
        {
            switch (key.Trim().ToLowerInvariant())
            {
                case SourceOption:
                    source = Sources.Normalize(value);
                    break;
                case PromoteOption:
                    promote = value.Trim().ToLowerInvariant() switch
                    {
                        "true" => true,
                        "false" => false,
                        _ => throw LakehouseException.Invalid($"option {PromoteOption} must be true or false (got '{value}')"),
                    };
                    if (promote && target.Promoted is null)
                    {
                        throw LakehouseException.Invalid($"option {PromoteOption} applies to tables with a silver table above them ({string.Join(", ",
                            targets.Where(t => t.Promoted is not null).Select(t => SqlName(t.Landing)))}), not to {name}");
                    }
                    break;
                default:
                    throw LakehouseException.Invalid(
                        $"unknown ingest option '{key}': the options are {SourceOption} (the bronze source, default {DefaultSource}) and {PromoteOption} (true: also upsert into silver)");
            }
        }
        return new Target(target.Landing, promote ? target.Promoted : null, source ?? DefaultSource);
    }

    /// <summary>The tables an upload lands in (as DoPut's targets): per-source bronze tables, and silver tables without one.</summary>
    internal static IReadOnlyList<Target> Targets(TableCatalog catalog)
    {
        var list = new List<Target>();
        foreach (var table in catalog.Tables)
        {
            if (table.Layer == Layer.Bronze && table.PerSource)
            {
                list.Add(new Target(table, catalog.Find(Layer.Silver, table.Name) is { Derived: false } silver ? silver : null, DefaultSource));
            }
            else if (table.Layer == Layer.Silver && !table.Derived && catalog.Find(Layer.Bronze, table.Name) is not { PerSource: true })
            {
                list.Add(new Target(table, null, DefaultSource));
            }
        }
        return list;
    }

    public static string SqlName(TableDefinition table) => $"{Layers.Name(table.Layer)}.{table.Name}";

    /// <summary>
    /// <c>layer.table</c> from the command: a <c>schema</c> (the layer) and a bare <c>table</c>, or a <c>table</c> written
    /// <c>layer.table</c> or <c>lakehouse.layer.table</c> as a SQL query names it; quotes are dropped, case is ignored.
    /// </summary>
    private static string TableName(CommandStatementIngest command, string allowed)
    {
        if (command.HasCatalog && command.Catalog.Length > 0 && Unquote(command.Catalog) != SqlEngine.Catalog)
        {
            throw LakehouseException.Invalid($"unknown catalog '{command.Catalog}': the only catalog is {SqlEngine.Catalog}");
        }
        var parts = command.Table.Split('.').Select(Unquote).ToList();
        if (command.HasSchema && command.Schema.Length > 0)
        {
            parts.Insert(0, Unquote(command.Schema));
        }
        if (parts.Count == 3 && parts[0] == SqlEngine.Catalog)
        {
            parts.RemoveAt(0);
        }
        if (parts.Count != 2 || parts.Any(p => p.Length == 0))
        {
            throw LakehouseException.Invalid($"name the table as SQL does, with its layer: table '{command.Table}' is not one of {allowed}");
        }
        return $"{parts[0]}.{parts[1]}";
    }

    private static string Unquote(string part) => part.Trim().Trim('"').Trim().ToLowerInvariant();
}
