using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A throw-away CA and a client certificate signed by it, as PEM files in a temporary directory, the client's private key
/// encrypted with <see cref="KeyPassword"/> (PKCS#8, AES-256): the TLS material a Kafka client is configured with.
/// </summary>
public sealed class TestCertificates : IDisposable
{
    private TestCertificates(string directory, string keyPassword)
    {
        Directory = directory;
        KeyPassword = keyPassword;
    }

    public string Directory { get; }

    public string CaFile => Path.Combine(Directory, "ca.pem");

    public string CertificateFile => Path.Combine(Directory, "client.pem");

    /// <summary>The client's private key, encrypted with <see cref="KeyPassword"/>.</summary>
    public string EncryptedKeyFile => Path.Combine(Directory, "client.key");

    public string KeyPassword { get; }

    public static TestCertificates Create(string keyPassword)
    {
        var directory = System.IO.Directory.CreateTempSubdirectory("ab-certs-").FullName;
        var now = DateTimeOffset.UtcNow;
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var caRequest = new CertificateRequest("CN=AlertBroker test CA", caKey, HashAlgorithmName.SHA256);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-1), now.AddDays(2));

        using var clientKey = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var clientRequest = new CertificateRequest("CN=alertbroker-test-client", clientKey, HashAlgorithmName.SHA256);
        clientRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        clientRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.2")], false));
        using var client = clientRequest.Create(ca, now.AddHours(-1), now.AddDays(1), [1, 2, 3, 4]);

        var certificates = new TestCertificates(directory, keyPassword);
        File.WriteAllText(certificates.CaFile, ca.ExportCertificatePem());
        File.WriteAllText(certificates.CertificateFile, client.ExportCertificatePem());
        File.WriteAllText(
            certificates.EncryptedKeyFile,
            clientKey.ExportEncryptedPkcs8PrivateKeyPem(keyPassword, new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 10_000)));
        return certificates;
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
