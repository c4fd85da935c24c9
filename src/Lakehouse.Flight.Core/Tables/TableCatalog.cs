using System.Collections.Immutable;

namespace Lakehouse.Flight.Core.Tables;

/// <summary>
/// The tables a lake holds. <see cref="Default"/> has the product's tables; a test or an extension adds
/// one with <see cref="With"/>. Immutable: a store and a server share one instance.
/// </summary>
public sealed class TableCatalog
{
    private readonly ImmutableArray<TableDefinition> _tables;

    public TableCatalog(IEnumerable<TableDefinition> tables)
    {
        _tables = [.. tables];
        var duplicate = _tables.GroupBy(t => t.Id).FirstOrDefault(g => g.Count() > 1);
        if (duplicate is not null)
        {
            throw new ArgumentException($"table {duplicate.Key} is declared twice", nameof(tables));
        }
    }

    /// <summary>silver and bronze <c>prices_daily</c>, silver <c>corporate_actions</c>, gold <c>prices_monthly</c> and <c>daily_metrics</c>.</summary>
    public static TableCatalog Default { get; } = new([PriceTables.Silver, PriceTables.Bronze, PriceTables.CorporateActions,
        GoldTables.PricesMonthly, GoldTables.DailyMetrics]);

    /// <summary>Every table, in the order declared (ListFlights shows them in this order).</summary>
    public IReadOnlyList<TableDefinition> Tables => _tables;

    public TableCatalog With(TableDefinition table) => new(_tables.Add(table));

    public TableDefinition? Find(Layer layer, string name)
    {
        foreach (var t in _tables)
        {
            if (t.Layer == layer && t.Name == name)
            {
                return t;
            }
        }
        return null;
    }

    /// <summary>The table, or InvalidArgument listing the tables there are.</summary>
    public TableDefinition Get(Layer layer, string name) =>
        Find(layer, name) ?? throw LakehouseException.Invalid(
            $"unknown dataset '{Layers.Name(layer)}/{name}': valid datasets are {string.Join(", ", _tables.Select(t => t.Id))}");

    /// <summary>The table a query reads and its output schema (projection applied).</summary>
    public (TableDefinition Table, Apache.Arrow.Schema Schema) Resolve(TableQuery query)
    {
        var table = Get(query.Layer, query.Table);
        return (table, table.Project(query.Columns));
    }
}
