using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Lakehouse.Flight.Core;

namespace Lakehouse.Flight.Server.Internal;

/// <summary>Who made a call.</summary>
internal sealed record Caller(string Name, Role Role)
{
    /// <summary>The caller when authentication is off (loopback only): may do everything.</summary>
    public static readonly Caller Anonymous = new("anonymous", Role.Writer);

    /// <summary>Refuses a reader where a writer is needed (PermissionDenied, 403).</summary>
    public void RequireWriter(string what)
    {
        if (Role != Role.Writer)
        {
            throw new LakehouseException(LakehouseErrorKind.PermissionDenied,
                $"{what} needs the writer role; '{Name}' is a {Role.ToString().ToLowerInvariant()}");
        }
    }
}

/// <summary>
/// Checks Basic credentials, issues Bearer tokens at Handshake and resolves tokens on every call.
/// Secrets are compared in constant time; issued tokens live in memory (a restart logs everyone out).
/// </summary>
internal sealed class TokenService(AuthOptions options, TimeProvider? time = null)
{
    private readonly AuthOptions _options = options;
    private readonly TimeProvider _time = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, (Caller Caller, DateTimeOffset Expires)> _issued = new(StringComparer.Ordinal);

    public bool Enabled => _options.Enabled;

    /// <summary>
    /// The one authentication of every entry point (gRPC calls, FastDoGet, the HTTP API): the caller
    /// behind an <c>authorization</c> header (Bearer token, issued or static, or Basic user:password);
    /// anonymous when authentication is off. Unauthenticated otherwise.
    /// </summary>
    public Caller Authenticate(string? authorizationHeader)
    {
        if (!Enabled)
        {
            return Caller.Anonymous;
        }
        if (string.IsNullOrEmpty(authorizationHeader))
        {
            throw new LakehouseException(LakehouseErrorKind.Unauthenticated,
                "no credentials: call Handshake with Basic user:password, then send 'authorization: Bearer <token>'");
        }
        return Resolve(authorizationHeader) ?? CheckBasicHeader(authorizationHeader)
            ?? throw new LakehouseException(LakehouseErrorKind.Unauthenticated, "invalid or expired credentials: authenticate again");
    }

    /// <summary>The user behind <c>user:password</c>, or null when they do not match a configured user.</summary>
    public Caller? CheckPassword(string user, string password)
    {
        Caller? found = null;
        foreach (var u in _options.Users)
        {
            // Evaluate every user so the time taken does not tell which names exist.
            var match = FixedEquals(u.Name, user) & FixedEquals(u.Password, password);
            if (match)
            {
                found = new Caller(u.Name, Roles.Parse(u.Role, "user"));
            }
        }
        return found;
    }

    /// <summary>Parses an <c>authorization: Basic base64(user:password)</c> header value.</summary>
    public Caller? CheckBasicHeader(string? header)
    {
        if (header is null || !header.StartsWith("Basic ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        string decoded;
        try
        {
            decoded = Encoding.UTF8.GetString(Convert.FromBase64String(header[6..].Trim()));
        }
        catch (FormatException)
        {
            return null;
        }
        var colon = decoded.IndexOf(':', StringComparison.Ordinal);
        return colon <= 0 ? null : CheckPassword(decoded[..colon], decoded[(colon + 1)..]);
    }

    public string Issue(Caller caller)
    {
        var token = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        _issued[token] = (caller, _time.GetUtcNow() + _options.TokenLifetime);
        return token;
    }

    /// <summary>Issued tokens not yet revoked or found expired.</summary>
    internal int IssuedCount => _issued.Count;

    /// <summary>Ends an issued token before its lifetime.</summary>
    public void Revoke(string token) => _issued.TryRemove(token, out _);

    /// <summary>The caller behind an <c>authorization: Bearer x</c> header (issued or static token), or null.</summary>
    public Caller? Resolve(string? header)
    {
        if (header is null || !header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return null;
        }
        var token = header[7..].Trim();
        if (_issued.TryGetValue(token, out var entry))
        {
            if (entry.Expires > _time.GetUtcNow())
            {
                return entry.Caller;
            }
            _issued.TryRemove(token, out _);
            return null;
        }
        Caller? found = null;
        for (var i = 0; i < _options.Tokens.Count; i++)
        {
            var t = _options.Tokens[i];
            if (FixedEquals(t.Token, token))
            {
                found = new Caller($"token#{i + 1}", Roles.Parse(t.Role, "token"));
            }
        }
        return found;
    }

    private static bool FixedEquals(string a, string b) =>
        CryptographicOperations.FixedTimeEquals(SHA256.HashData(Encoding.UTF8.GetBytes(a)), SHA256.HashData(Encoding.UTF8.GetBytes(b)));
}
