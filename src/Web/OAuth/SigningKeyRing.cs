using System.Security.Cryptography;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.IdentityModel.Tokens;

namespace Saas.Web.OAuth;

/// <summary>
/// The RSA keys that sign access tokens, kept in <c>{DataDirectory}/oauth-keys</c> encrypted with Data
/// Protection. A new key is made when the newest is older than <see cref="RotateAfter"/>; the previous
/// ones stay published in the JWKS until <see cref="RetireAfter"/>, so tokens they signed stay valid
/// through a rollover (tokens live minutes, keys months).
/// </summary>
public sealed class SigningKeyRing(string directory, IDataProtectionProvider protection, TimeProvider time)
{
    public static readonly TimeSpan RotateAfter = TimeSpan.FromDays(30);
    public static readonly TimeSpan RetireAfter = TimeSpan.FromDays(45);

    private readonly IDataProtector _protector = protection.CreateProtector("Flowgate.OAuth.SigningKeys");

    /// <returns>The keys to publish, newest (the one that signs) first.</returns>
    public IReadOnlyList<RsaSecurityKey> Load()
    {
        Directory.CreateDirectory(directory);
        var now = time.GetUtcNow();
        var keys = Directory.EnumerateFiles(directory, "*.key")
            .Select(path => (Path: path, Created: DateTimeOffset.FromUnixTimeSeconds(long.Parse(Path.GetFileNameWithoutExtension(path), System.Globalization.CultureInfo.InvariantCulture))))
            .Where(k => now - k.Created < RetireAfter)
            .OrderByDescending(k => k.Created)
            .ToList();
        if (keys.Count == 0 || now - keys[0].Created >= RotateAfter)
        {
            using var rsa = RSA.Create(2048);
            var path = Path.Combine(directory, $"{now.ToUnixTimeSeconds()}.key");
            File.WriteAllBytes(path + ".tmp", _protector.Protect(rsa.ExportPkcs8PrivateKey()));
            File.Move(path + ".tmp", path, overwrite: true);
            keys.Insert(0, (path, now));
        }
        return keys.Select(k =>
        {
            var rsa = RSA.Create();
            rsa.ImportPkcs8PrivateKey(_protector.Unprotect(File.ReadAllBytes(k.Path)), out _);
            return new RsaSecurityKey(rsa) { KeyId = Path.GetFileNameWithoutExtension(k.Path) };
        }).ToList();
    }
}
