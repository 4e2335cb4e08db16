using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AlertBroker.Redis;

/// <summary>
/// Section <c>AlertBroker:Redis</c>: how every Redis connection of the process authenticates and encrypts (the state store
/// and the model registry alike). The connection strings themselves (<c>AlertBroker:State:Redis</c>,
/// <c>AlertBroker:Model:RegistryRedis</c>) name only endpoints. Environment form: <c>AlertBroker__Redis__Password</c>, ….
/// </summary>
public sealed class RedisOptions
{
    public const string Section = "AlertBroker:Redis";

    /// <summary>Redis 6+ ACL user name; empty: the <c>default</c> user.</summary>
    public string? User { get; set; }

    /// <summary>Password of <see cref="User"/> (or of <c>requirepass</c> without a user). Never logged.</summary>
    public string? Password { get; set; }

    /// <summary>Connect over TLS.</summary>
    public bool Tls { get; set; }

    /// <summary>PEM file of the CA that issued the server's certificate, when it is not in the system's trust store.</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>PEM client certificate, for servers that require one (<c>tls-auth-clients yes</c>).</summary>
    public string? TlsCertificateFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertificateFile"/> (may be omitted when the certificate file holds the key too).</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>The settings with nothing set: plain text, no authentication beyond what the connection string carries.</summary>
    public static RedisOptions None => new();

    /// <summary>
    /// Every problem with these settings, each naming the setting through <paramref name="name"/> (default: the
    /// configuration key, e.g. <c>AlertBroker:Redis:TlsCaFile</c>); empty when they can be used.
    /// </summary>
    public IReadOnlyList<string> Validate(Func<string, string>? name = null)
    {
        name ??= static property => Section + ":" + property;
        var problems = new List<string>();
        if (!string.IsNullOrEmpty(User) && string.IsNullOrEmpty(Password))
        {
            problems.Add($"{name(nameof(User))} is set but {name(nameof(Password))} is not: an ACL user needs its password.");
        }

        if (!Tls)
        {
            foreach (var (property, value) in Files())
            {
                if (!string.IsNullOrEmpty(value))
                {
                    problems.Add($"{name(property)} is set but {name(nameof(Tls))} is not true: set it to use TLS.");
                }
            }
        }

        if (string.IsNullOrEmpty(TlsCertificateFile) && !string.IsNullOrEmpty(TlsKeyFile))
        {
            problems.Add($"{name(nameof(TlsKeyFile))} is set without {name(nameof(TlsCertificateFile))}.");
        }

        var missing = false;
        foreach (var (property, value) in Files())
        {
            if (!string.IsNullOrEmpty(value) && !File.Exists(value))
            {
                // A directory (a Secret's mount point instead of the file in it) was "file '/etc' not found".
                problems.Add(Directory.Exists(value)
                    ? $"{name(property)}: '{value}' is a directory, not a PEM file (name the file in it, e.g. {Path.Combine(value, "ca.crt")})."
                    : $"{name(property)}: file '{value}' not found.");
                missing = true;
            }
        }

        if (Tls && !missing)
        {
            CheckPem(problems, name);
        }

        return problems;
    }

    // A file that exists but is not what it should be fails here, at start, rather than at the first TLS handshake.
    private void CheckPem(List<string> problems, Func<string, string> name)
    {
        if (!string.IsNullOrEmpty(TlsCaFile))
        {
            try
            {
                var certificates = new X509Certificate2Collection();
                certificates.ImportFromPemFile(TlsCaFile);
                if (certificates.Count == 0)
                {
                    problems.Add($"{name(nameof(TlsCaFile))}: '{TlsCaFile}' holds no PEM certificate.");
                }

                foreach (var c in certificates)
                {
                    c.Dispose();
                }
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                problems.Add($"{name(nameof(TlsCaFile))}: '{TlsCaFile}' cannot be read as PEM certificates: {e.Message}");
            }
        }

        if (!string.IsNullOrEmpty(TlsCertificateFile))
        {
            try
            {
                using var certificate = X509Certificate2.CreateFromPemFile(TlsCertificateFile, string.IsNullOrEmpty(TlsKeyFile) ? null : TlsKeyFile);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                problems.Add($"{name(nameof(TlsCertificateFile))}/{name(nameof(TlsKeyFile))}: '{TlsCertificateFile}' cannot be loaded as a PEM certificate with its private key: {e.Message}");
            }
        }
    }

    private (string Property, string? Value)[] Files() =>
        [(nameof(TlsCaFile), TlsCaFile), (nameof(TlsCertificateFile), TlsCertificateFile), (nameof(TlsKeyFile), TlsKeyFile)];
}
