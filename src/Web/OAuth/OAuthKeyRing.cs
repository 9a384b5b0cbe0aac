using System.Security.Cryptography;
using Dapper;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;
using Saas.Pipelines.Storage;

namespace Saas.Web.OAuth;

/// <summary>The keys of one use: <see cref="Current"/> signs (or encrypts); all of them, current first, validate (or decrypt).</summary>
public sealed record OAuthKeys(RsaSecurityKey Current, IReadOnlyList<RsaSecurityKey> All);

/// <summary>
/// The RSA keys that sign access tokens and encrypt codes and refresh tokens, in the database (<c>oauth_keys</c>)
/// protected with the shared Data Protection key ring, so every web node signs, validates, encrypts and decrypts
/// alike. Time is cut into <see cref="RotateAfter"/> periods; period <c>p</c>'s key is current during it, published
/// one period ahead (so every node validates it before any signs with it) and kept <see cref="KeptPeriods"/> periods
/// after (so tokens and refresh tokens it made stay valid until they expire). A period's key has a fixed id, and the
/// first node to write it wins (decision 029).
/// </summary>
public sealed class OAuthKeyRing(Database database, IDataProtectionProvider protection, TimeProvider time)
{
    public const string Signing = "signing";
    public const string Encryption = "encryption";

    public static readonly TimeSpan RotateAfter = TimeSpan.FromDays(30);

    /// <summary>Past periods whose keys still validate: longer than any token, code or refresh token lives.</summary>
    public const int KeptPeriods = 2;

    private readonly IDataProtector _protector = protection.CreateProtector("Flowgate.OAuth.Keys");
    private readonly Dictionary<string, (long Period, OAuthKeys Keys)> _loaded = new(StringComparer.Ordinal);

    public static long PeriodOf(DateTimeOffset at) => at.ToUnixTimeMilliseconds() / (long)RotateAfter.TotalMilliseconds;

    /// <summary>When the next period starts, and with it the next key signs.</summary>
    public static DateTimeOffset NextRollover(DateTimeOffset now) => DateTimeOffset.FromUnixTimeMilliseconds((PeriodOf(now) + 1) * (long)RotateAfter.TotalMilliseconds);

    /// <summary>The keys of <paramref name="use"/> for the current period, read (and made, when missing) once per period.</summary>
    public OAuthKeys Load(string use)
    {
        var period = PeriodOf(time.GetUtcNow());
        lock (_loaded)
        {
            if (_loaded.TryGetValue(use, out var loaded) && loaded.Period == period)
            {
                return loaded.Keys;
            }
            var keys = Read(use, period);
            _loaded[use] = (period, keys);
            return keys;
        }
    }

    private OAuthKeys Read(string use, long period)
    {
        const string existing = "SELECT period FROM oauth_keys WHERE use = @use AND period IN (@period, @next)";
        const string insert = """
            INSERT INTO oauth_keys (id, use, period, protected_key, created_at) VALUES (@id, @use, @period, @key, @now)
            ON CONFLICT (id) DO NOTHING
            """;
        const string select = """
            SELECT id, period, protected_key FROM oauth_keys WHERE use = @use AND period BETWEEN @oldest AND @next
            """;
        using (var connection = database.OpenConnection())
        {
            var have = connection.Query<long>(existing, new { use, period, next = period + 1 }).ToHashSet();
            foreach (var missing in new[] { period, period + 1 }.Where(p => !have.Contains(p)))
            {
                using var rsa = RSA.Create(2048);
                var key = Convert.ToBase64String(_protector.Protect(rsa.ExportPkcs8PrivateKey()));
                database.WriteAsync((c, t) => c.Execute(insert, new { id = $"{use}-{missing}", use, period = missing, key, now = time.GetUtcNow().ToUnixTimeMilliseconds() }, t))
                    .GetAwaiter().GetResult();
            }
        }
        using var reader = database.OpenConnection();
        var rows = reader.Query<(string Id, long Period, string ProtectedKey)>(select, new { use, oldest = period - KeptPeriods, next = period + 1 })
            // Current first (it signs), then the older ones, newest first, then the next one (published, not used yet).
            .OrderBy(r => r.Period == period ? 0 : r.Period < period ? 1 : 2).ThenByDescending(r => r.Period)
            .Select(r =>
            {
                var rsa = RSA.Create();
                rsa.ImportPkcs8PrivateKey(_protector.Unprotect(Convert.FromBase64String(r.ProtectedKey)), out _);
                return new RsaSecurityKey(rsa) { KeyId = r.Id };
            })
            .ToList();
        return new OAuthKeys(rows[0], rows);
    }
}
