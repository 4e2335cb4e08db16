using AlertBroker.Worker.Hosting;

namespace AlertBroker.Worker.Tests;

/// <summary>Key prefixes that would break the Redis Cluster key layout are refused at start.</summary>
public sealed class KeyPrefixValidationTests
{
    [Fact]
    public void StatePrefix_WithAHashTag_IsRefused()
    {
        var result = new StateOptionsValidator().Validate(null, new StateOptions { KeyPrefix = "{ab}" });
        Assert.True(result.Failed);
        Assert.Contains("AlertBroker:State:KeyPrefix must not contain { or }", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new StateOptionsValidator().Validate(null, new StateOptions { KeyPrefix = "ab" }).Succeeded);
    }

    [Fact]
    public void RegistryPrefix_WithABrace_IsRefused()
    {
        var result = new ModelOptionsValidator().Validate(null, new ModelOptions { RegistryRedis = "127.0.0.1:6379", RegistryPrefix = "alert}broker" });
        Assert.True(result.Failed);
        Assert.Contains("AlertBroker:Model:RegistryPrefix", result.FailureMessage, StringComparison.Ordinal);
        Assert.True(new ModelOptionsValidator().Validate(null, new ModelOptions { RegistryRedis = "127.0.0.1:6379" }).Succeeded);
    }
}
