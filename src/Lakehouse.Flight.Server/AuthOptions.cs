using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server;

/// <summary>Who may call: users (Basic, exchanged for a Bearer token at Handshake) and static tokens.</summary>
public sealed class AuthOptions
{
    public List<UserOptions> Users { get; set; } = [];

    public List<TokenOptions> Tokens { get; set; } = [];

    /// <summary>Lifetime of tokens issued by Handshake.</summary>
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(12);

    public bool Enabled => Users.Count > 0 || Tokens.Count > 0;

    internal void Validate()
    {
        foreach (var u in Users)
        {
            if (string.IsNullOrEmpty(u.Name) || string.IsNullOrEmpty(u.Password) || u.Name.Contains(':', StringComparison.Ordinal))
            {
                throw LakehouseException.Invalid("Lakehouse:Auth:Users: each user needs a Name (without ':') and a Password");
            }
            _ = Roles.Parse(u.Role, $"Lakehouse:Auth:Users '{u.Name}'");
        }
        foreach (var t in Tokens)
        {
            if (string.IsNullOrEmpty(t.Token) || t.Token.Length < 16)
            {
                throw LakehouseException.Invalid("Lakehouse:Auth:Tokens: each token needs at least 16 characters");
            }
            _ = Roles.Parse(t.Role, "Lakehouse:Auth:Tokens");
        }
    }
}

public sealed class UserOptions
{
    public string Name { get; set; } = "";
    public string Password { get; set; } = "";

    /// <summary><c>reader</c> or <c>writer</c> (writers also read).</summary>
    public string Role { get; set; } = "reader";
}

public sealed class TokenOptions
{
    public string Token { get; set; } = "";

    /// <summary><c>reader</c> or <c>writer</c>.</summary>
    public string Role { get; set; } = "reader";
}

/// <summary>What a caller may do. Writers may also read.</summary>
public enum Role
{
    Reader,
    Writer,
}

public static class Roles
{
    public static Role Parse(string? value, string where) => (value ?? "").Trim().ToLowerInvariant() switch
    {
        "reader" or "read" => Role.Reader,
        "writer" or "write" => Role.Writer,
        _ => throw LakehouseException.Invalid($"{where}: role '{value}' is not one of reader, writer"),
    };
}
