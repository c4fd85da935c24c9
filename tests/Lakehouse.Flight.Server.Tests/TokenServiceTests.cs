using System.Text;
using Lakehouse.Flight.Server.Internal;

namespace Lakehouse.Flight.Server.Tests;

public sealed class TokenServiceTests
{
    private static AuthOptions Auth() => new()
    {
        Users = [new UserOptions { Name = "ann", Password = "pw:with:colons", Role = "writer" }, new UserOptions { Name = "bob", Password = "b", Role = "reader" }],
        Tokens = [new TokenOptions { Token = "static-reader-token-123", Role = "reader" }],
        TokenLifetime = TimeSpan.FromMinutes(5),
    };

    private static string Basic(string userPass) => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes(userPass));

    [Fact]
    public void CheckBasicHeader_RightPassword_GivesTheUserAndRole()
    {
        var tokens = new TokenService(Auth());

        Assert.Equal(new Caller("ann", Role.Writer), tokens.CheckBasicHeader(Basic("ann:pw:with:colons")));
        Assert.Equal(new Caller("bob", Role.Reader), tokens.CheckBasicHeader(Basic("bob:b")));
    }

    [Theory]
    [InlineData("ann:wrong")]
    [InlineData("nobody:b")]
    [InlineData("ann")]
    public void CheckBasicHeader_WrongCredentials_IsNull(string userPass)
    {
        Assert.Null(new TokenService(Auth()).CheckBasicHeader(Basic(userPass)));
    }

    [Fact]
    public void CheckBasicHeader_NotBase64_IsNull()
    {
        Assert.Null(new TokenService(Auth()).CheckBasicHeader("Basic ***"));
    }

    [Fact]
    public void Resolve_IssuedToken_GivesItsCallerUntilItExpires()
    {
        var time = new ManualTime();
        var tokens = new TokenService(Auth(), time);
        var token = tokens.Issue(new Caller("ann", Role.Writer));

        var before = tokens.Resolve("Bearer " + token);
        time.Advance(TimeSpan.FromMinutes(6));
        var after = tokens.Resolve("Bearer " + token);

        Assert.Equal(new Caller("ann", Role.Writer), before);
        Assert.Null(after);
    }

    [Fact]
    public void Resolve_StaticToken_HasItsRole_AndUnknownTokensAreNull()
    {
        var tokens = new TokenService(Auth());

        Assert.Equal(Role.Reader, tokens.Resolve("Bearer static-reader-token-123")!.Role);
        Assert.Null(tokens.Resolve("Bearer static-reader-token-124"));
        Assert.Null(tokens.Resolve("static-reader-token-123"));
        Assert.Null(tokens.Resolve(null));
    }

    [Fact]
    public void Issue_TwoCalls_GiveDifferentTokens()
    {
        var tokens = new TokenService(Auth());

        Assert.NotEqual(tokens.Issue(Caller.Anonymous), tokens.Issue(Caller.Anonymous));
    }

    private sealed class ManualTime : TimeProvider
    {
        private DateTimeOffset _now = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
