namespace Lakehouse.Flight.Core.Tests;

public sealed class SymbolsAndPathsTests
{
    [Theory]
    [InlineData("aapl", "AAPL")]
    [InlineData(" brk.b ", "BRK.B")]
    [InlineData("^gspc", "^GSPC")]
    [InlineData("eurusd=x", "EURUSD=X")]
    [InlineData("BTC-USD", "BTC-USD")]
    public void Normalize_AllowedSymbol_IsUpperCased(string input, string expected) =>
        Assert.Equal(expected, Symbols.Normalize(input));

    [Theory]
    [InlineData("../../etc", "'/'")]
    [InlineData("A/B", "'/'")]
    [InlineData("A\\B", "'\\'")]
    [InlineData("..", "not a ticker")]
    [InlineData("A B", "' '")]
    [InlineData("", "empty")]
    [InlineData("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456", "at most 32")]
    public void Normalize_PathOrJunk_IsInvalidArgumentSayingWhy(string input, string fragment)
    {
        var ex = Assert.Throws<LakehouseException>(() => Symbols.Normalize(input));
        Assert.Equal(LakehouseErrorKind.InvalidArgument, ex.Kind);
        Assert.Contains(fragment, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NormalizeAll_SplitsCommasDeduplicatesAndSortsOrdinally() =>
        Assert.Equal(["AAPL", "MSFT", "^GSPC"], Symbols.NormalizeAll(["msft,AAPL", "^gspc", "aapl"]));

    [Theory]
    [InlineData("^GSPC", "%5EGSPC")]
    [InlineData("EURUSD=X", "EURUSD%3DX")]
    [InlineData("BRK.B", "BRK.B")]
    [InlineData("BTC-USD", "BTC-USD")]
    [InlineData("a/b:c", "a%2Fb%3Ac")]
    public void HivePath_EscapesLikeHiveAndRoundTrips(string value, string escaped)
    {
        Assert.Equal(escaped, HivePath.Escape(value));
        Assert.Equal(value, HivePath.Unescape(escaped));
    }
}
