namespace AlertBroker.Redis.Tests;

public sealed class RedisOptionsTests : IClassFixture<SecureRedisServerFixture>
{
    private readonly SecureRedisServerFixture _redis;

    public RedisOptionsTests(SecureRedisServerFixture redis)
    {
        _redis = redis;
    }

    [Fact]
    public void Validate_Nothing_IsValid()
    {
        Assert.Empty(RedisOptions.None.Validate());
    }

    [Fact]
    public void Validate_UserWithoutPassword_NamesBothKeys()
    {
        var problem = Assert.Single(new RedisOptions { User = "alertbroker" }.Validate());
        Assert.Contains("AlertBroker:Redis:User", problem, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Redis:Password", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_TlsFilesWithoutTls_AsksForTls()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var problem = Assert.Single(new RedisOptions { TlsCaFile = _redis.CaFile }.Validate());
        Assert.Contains("AlertBroker:Redis:TlsCaFile", problem, StringComparison.Ordinal);
        Assert.Contains("AlertBroker:Redis:Tls ", problem, StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_MissingFilesAndKeyWithoutCertificate_ListsEach()
    {
        var problems = new RedisOptions { Tls = true, TlsCaFile = "/no/such/ca.crt", TlsKeyFile = "/no/such/client.key" }.Validate();
        Assert.Contains(problems, p => p.Contains("TlsCaFile: file '/no/such/ca.crt' not found", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("TlsKeyFile: file '/no/such/client.key' not found", StringComparison.Ordinal));
        Assert.Contains(problems, p => p.Contains("TlsKeyFile is set without AlertBroker:Redis:TlsCertificateFile", StringComparison.Ordinal));
    }

    // A Secret's mount point given instead of the file in it was "file '/etc' not found": it exists.
    [Fact]
    public void Validate_DirectoryForAFile_SaysItIsADirectory()
    {
        var directory = Directory.CreateTempSubdirectory("ab-redis-tls-").FullName;
        try
        {
            var problem = Assert.Single(new RedisOptions { Tls = true, TlsCaFile = directory }.Validate());
            Assert.Contains($"TlsCaFile: '{directory}' is a directory, not a PEM file", problem, StringComparison.Ordinal);
            Assert.DoesNotContain("not found", problem, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(directory);
        }
    }

    [Fact]
    public void Validate_FileThatIsNotPem_IsRefusedAtStart()
    {
        var notPem = Path.GetTempFileName();
        try
        {
            File.WriteAllText(notPem, "this is not a certificate");
            var problems = new RedisOptions { Tls = true, TlsCaFile = notPem, TlsCertificateFile = notPem }.Validate();
            Assert.Contains(problems, p => p.Contains("TlsCaFile", StringComparison.Ordinal) && p.Contains("no PEM certificate", StringComparison.Ordinal));
            Assert.Contains(problems, p => p.Contains("TlsCertificateFile", StringComparison.Ordinal) && p.Contains("cannot be loaded", StringComparison.Ordinal));
        }
        finally
        {
            File.Delete(notPem);
        }
    }

    [Fact]
    public void Validate_CertificateWithItsKey_IsValid()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var options = new RedisOptions
        {
            User = "u",
            Password = "p",
            Tls = true,
            TlsCaFile = _redis.CaFile,
            TlsCertificateFile = _redis.ClientCertificateFile,
            TlsKeyFile = _redis.ClientKeyFile,
        };
        Assert.Empty(options.Validate());
    }

    [Fact]
    public void Validate_CertificateWithAnotherKey_IsRefused()
    {
        Assert.True(_redis.Available, _redis.UnavailableReason);
        var otherKey = Path.Combine(Path.GetDirectoryName(_redis.CaFile)!, "ca.key");
        var options = new RedisOptions { Tls = true, TlsCertificateFile = _redis.ClientCertificateFile, TlsKeyFile = otherKey };
        Assert.Contains(options.Validate(), p => p.Contains("TlsCertificateFile", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_CustomNames_AreUsedInMessages()
    {
        var problem = Assert.Single(new RedisOptions { User = "u" }.Validate(p => "--redis-" + p.ToLowerInvariant()));
        Assert.Contains("--redis-user", problem, StringComparison.Ordinal);
        Assert.Contains("--redis-password", problem, StringComparison.Ordinal);
    }
}
