namespace Lakehouse.Flight.Core;

/// <summary>The kinds of corporate action kept in <c>silver/corporate_actions</c>.</summary>
public static class CorporateActionTypes
{
    public const string Dividend = "dividend";
    public const string Split = "split";
    public const string CapitalGain = "capital_gain";
}

/// <summary>
/// One row of <c>silver/corporate_actions</c>: a cash dividend or capital gain (<see cref="Value"/> per
/// share) or a split (<see cref="Numerator"/> new shares for <see cref="Denominator"/> old ones).
/// Key (symbol, date, type).
/// </summary>
public sealed record CorporateAction(
    string Symbol,
    DateOnly Date,
    string Type,
    double? Value,
    double? Numerator,
    double? Denominator,
    string Source,
    DateTimeOffset IngestedAt);
