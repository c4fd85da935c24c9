namespace Lakehouse.Flight.Core;

public enum Layer
{
    Bronze,
    Silver,
    Gold,
}

public static class Layers
{
    public static string Name(Layer layer) => layer switch
    {
        Layer.Bronze => "bronze",
        Layer.Silver => "silver",
        _ => "gold",
    };

    public static Layer Parse(string? value) => (value ?? string.Empty).Trim().ToLowerInvariant() switch
    {
        "" or "silver" => Layer.Silver,
        "bronze" => Layer.Bronze,
        "gold" => Layer.Gold,
        _ => throw LakehouseException.Invalid($"unknown layer '{value}': use one of bronze, silver, gold"),
    };
}
