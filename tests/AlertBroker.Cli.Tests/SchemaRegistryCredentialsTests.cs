using AlertBroker.Worker.Schemas;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// A schema-registry URL that carries credentials (<c>http://user:password@host/</c>): refused at start by every command
/// that takes one, and never printed from the registry client's errors.
/// </summary>
public sealed class SchemaRegistryCredentialsTests : IDisposable
{
    private const string Password = "hunter2-Registry";
    private const string UrlWithCredentials = "http://bob:" + Password + "@127.0.0.1:9/";
    private readonly string _root = Directory.CreateTempSubdirectory("ab-registry-creds-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    // The URL was accepted and its password printed in the exit message of a registry that did not answer ("registering
    // the output schema under subject 'out1-value' failed: request failed: [http://bob:hunter2@127.0.0.1:9/] …").
    [Theory]
    [InlineData("inspect")]
    [InlineData("replay")]
    [InlineData("score")]
    [InlineData("consume")]
    [InlineData("run")]
    [InlineData("run-environment")]
    public async Task SchemaRegistryUrlWithCredentials_ExitsTwoSayingWhereTheyGo(string command)
    {
        string[] run = ["run", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--in-memory", "--random-model", "--http-port", "0"];
        string[] args = command switch
        {
            "inspect" => ["inspect", _root, "--schema-registry", UrlWithCredentials],
            "replay" => ["replay", _root, "--schema-registry", UrlWithCredentials],
            "score" => ["score", _root, "--model", "models/ztf-bts/2.7.0", "--schema-registry", UrlWithCredentials],
            "consume" => ["consume", "--bootstrap-servers", "127.0.0.1:1", "--topic", "t", "--schema-registry", UrlWithCredentials],
            "run" => [.. run, "--schema-registry", UrlWithCredentials],
            _ => run,
        };
        var environment = command == "run-environment" ? new Dictionary<string, string?> { ["AlertBroker__Schemas__RegistryUrl"] = UrlWithCredentials } : null;

        var (code, output, stdout) = await AlertBrokerProcess.RunAsync(args, environment, TimeSpan.FromSeconds(60));

        Assert.True(code == 2, $"exit code {code}: {output}");
        Assert.Contains((command == "run-environment" ? "AlertBroker:Schemas:RegistryUrl" : "--schema-registry") + " must not hold a user name or password (user:password@host): give them as AlertBroker:Schemas:RegistryUsername and RegistryPassword", output, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, output + stdout, StringComparison.Ordinal);
    }

    // Past the start checks (a client made from the URL directly), the registry client's error names the URL it tried:
    // its credentials are replaced before the message goes anywhere.
    [Fact]
    public async Task Lookup_RegistryNotAnsweringAtAUrlWithCredentials_MessageWithoutThePassword()
    {
        using var lookup = ConfluentSchemaRegistryLookup.Create(UrlWithCredentials);

        var e = await Assert.ThrowsAnyAsync<Exception>(async () => await lookup.GetSchemaAsync(1));

        Assert.Contains("the schema registry did not answer the lookup of schema id 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1:9", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain(Password, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("request failed: [http://bob:pw@127.0.0.1:9/] HttpRequestException", "request failed: [http://*****@127.0.0.1:9/] HttpRequestException")]
    [InlineData("https://a:b@one:8081,https://two:8081/x@y", "https://*****@one:8081,https://two:8081/x@y")]
    [InlineData("no url here: user@example.org", "no url here: user@example.org")]
    public void RedactUrlCredentials_ReplacesOnlyAUrlsUserInfo(string text, string expected) =>
        Assert.Equal(expected, SchemaRegistryClients.RedactUrlCredentials(text));
}
