using AlertBroker.Registry;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// What a tester's mistakes with the model registry commands do, run as the built program (stderr and exit code as a shell
/// sees them): a gate option out of range, a malformed reference or survey and a survey the model does not declare are
/// usage errors (exit 2); a registry file that is not JSON is one line naming it (exit 1), never "unexpected error"
/// (exit 70); a --registry that is a file says so; read-only commands create nothing; score with two models for one
/// survey, or a package path that is a file, is refused (exit 2); a stored model whose bytes do not match is exit 3.
/// </summary>
public sealed class RegistryMistakesTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("ab-registry-mistakes-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Theory]
    [InlineData("--max-drop", "NaN")]
    [InlineData("--max-drop", "-1")]
    [InlineData("--require-shadow", "-5")]
    [InlineData("--min-agreement", "2")]
    [InlineData("--actor", "alice\nroot promoted evil@1")]
    [InlineData("--reason", "ok\n2026-01-01 ztf promote a → b by root: forged")]
    [InlineData("--survey", "a b/../c")]
    public async Task Promote_BadGateOrRecordOption_UsageErrorBeforeAnyChange(string option, string value)
    {
        var registry = await RegistryWithAsync("1");

        var run = await RunAsync("models", "promote", "mistake@1", "--registry", registry, option, value);

        Assert.Equal(2, run.Code);
        Assert.Contains(option, run.Output, StringComparison.Ordinal);
        Assert.Null(await new DirectoryModelRegistry(registry).GetActiveAsync("ztf"));
    }

    // A registry folder this user may not write (/sys refuses even root): "unexpected error (UnauthorizedAccessException)", exit 70.
    [Fact]
    public async Task Push_RegistryThatCannotBeWritten_ExitOneInOneLine()
    {
        if (!Directory.Exists("/sys/kernel"))
        {
            return;
        }

        var run = await RunAsync("models", "push", Export("1"), "--registry", "/sys/kernel");

        Assert.True(run.Code == 1, run.Output);
        Assert.Contains("/sys/kernel/.registry", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected", run.Output, StringComparison.Ordinal);
    }

    // model.onnx a link to /dev/zero: push read it until memory ran out ("unexpected error", exit 70); models package --onnx
    // /dev/zero the same.
    [Fact]
    public async Task PushAndPackage_FileThatIsADevice_RefusedNamingIt()
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        var package = Export("1");
        File.Delete(Path.Combine(package, "model.onnx"));
        File.CreateSymbolicLink(Path.Combine(package, "model.onnx"), "/dev/zero");

        var push = await RunAsync("models", "push", package, "--registry", Path.Combine(_root, "reg"));
        var packaged = await RunAsync("models", "package", "--onnx", "/dev/zero", "--classes", "SNIa,SNII", "--encoding", "alertbroker-lc", "--out", Path.Combine(_root, "pk", "x", "1"));

        Assert.True(push.Code == 3, push.Output);
        Assert.Contains("MissingFile: model.onnx is a character device, not a regular file", push.Output, StringComparison.Ordinal);
        Assert.True(packaged.Code == 2, packaged.Output);
        Assert.Contains("--onnx /dev/zero is a character device, not a regular file", packaged.Output, StringComparison.Ordinal);
    }

    // A name or version that is a path step ('..', '.', holding '/'): "cannot be used as a model name or version", exit 1.
    [Theory]
    [InlineData("mistake@../1")]
    [InlineData("../mistake@1")]
    [InlineData("mistake@1/..")]
    [InlineData("mistake@.")]
    public async Task Promote_ReferenceThatIsAPathStep_UsageError(string reference)
    {
        var registry = await RegistryWithAsync("1");

        var run = await RunAsync("models", "promote", reference, "--registry", registry);

        Assert.True(run.Code == 2, run.Output);
        Assert.Contains("is not NAME@VERSION", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Promote_NotNameAtVersion_UsageError()
    {
        var registry = await RegistryWithAsync("1");

        var run = await RunAsync("models", "promote", "mistake", "--registry", registry);

        Assert.Equal(2, run.Code);
        Assert.Contains("'mistake' is not NAME@VERSION", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("bogus", true)]
    [InlineData("lsst", false)]
    public async Task Promote_SurveyTheModelDoesNotDeclare_UsageErrorAndNoSurveyIsMade(string survey, bool force)
    {
        var registry = await RegistryWithAsync("1");

        var run = await RunAsync(["models", "promote", "mistake@1", "--survey", survey, "--registry", registry, .. force ? new[] { "--force" } : []]);

        Assert.Equal(2, run.Code);
        Assert.Contains("not " + survey, run.Output, StringComparison.Ordinal);
        Assert.Empty(await new DirectoryModelRegistry(registry).GetSurveysAsync());
    }

    [Fact]
    public async Task Promote_RefusedCandidate_NamesTheReferenceOnce()
    {
        var registry = await RegistryWithAsync("1");
        await File.AppendAllTextAsync(Path.Combine(registry, "mistake", "1", "model.onnx"), "xx");

        var run = await RunAsync("models", "promote", "mistake@1", "--registry", registry);

        Assert.Equal(1, run.Code);
        Assert.Contains("refused: mistake@1: stored model.onnx", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("mistake@1: mistake@1", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("surveys/ztf/active.json", "list")]
    [InlineData("surveys/ztf/active.json", "status")]
    [InlineData("surveys/ztf/active.json", "promote mistake@2")]
    [InlineData("surveys/ztf/active.json", "rollback")]
    [InlineData("metadata.json", "metadata list")]
    public async Task CorruptRegistryFile_OneLineNamingTheFile_ExitOne(string file, string command)
    {
        var registry = await RegistryWithAsync("1", "2");
        await RunAsync("models", "promote", "mistake@1", "--registry", registry);
        var path = Path.Combine(registry, ".registry", file);
        await File.WriteAllTextAsync(path, "garbage");

        var run = await RunAsync([.. "models".Split(' '), .. command.Split(' '), "--registry", registry]);

        // Before: "unexpected error (JsonException)", exit 70, without naming the file.
        Assert.Equal(1, run.Code);
        Assert.Contains(path + " is not valid JSON", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
    }

    // Found by the data-integrity review (2026-12-07): shadow statistics with more agreed alerts than compared ones (a hand
    // edit) were shown by models status as an agreement of 1.200 (exit 0), and passed promote --min-agreement. Both are
    // now the damaged-record line naming the file, exit 1; nothing is promoted.
    [Theory]
    [InlineData("status")]
    [InlineData("promote mistake@2 --require-shadow 5 --min-agreement 0.9")]
    public async Task DamagedShadowStatistics_OneLineNamingTheFile_ExitOne(string command)
    {
        var registry = await RegistryWithAsync("1", "2");
        Assert.Equal(0, (await RunAsync("models", "promote", "mistake@1", "--registry", registry)).Code);
        Assert.Equal(0, (await RunAsync("models", "shadow", "mistake@2", "--registry", registry)).Code);
        var store = new DirectoryModelRegistry(registry);
        var pair = ShadowPair.Of("ztf", (await store.GetShadowAsync("ztf"))!, (await store.GetActiveAsync("ztf"))!);
        await store.AddShadowStatisticsAsync(pair, new Dictionary<string, double> { ["alerts"] = 10, ["agreed"] = 12 });
        var file = Directory.GetFiles(Path.Combine(registry, ".registry"), "*.json", SearchOption.AllDirectories).Single(f => f.Contains("shadow-stats", StringComparison.Ordinal));

        var run = await RunAsync([.. "models".Split(' '), .. command.Split(' '), "--registry", registry]);

        Assert.Equal(1, run.Code);
        Assert.Contains($"registry record {file} is not valid shadow statistics: \"agreed\" (12) is greater than \"alerts\" (10)", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
        Assert.Equal("mistake@1", (await store.GetActiveAsync("ztf"))!.Ref.ToString());
    }

    // Found by the routing bug hunt: score --registry whose active model needs metadata scored it with the values unknown
    // without a word, where score --model warns.
    [SharedDataFact]
    public async Task Score_RegistryActiveModelThatNeedsMetadata_WarnsThatItScoresThemUnknown()
    {
        var registry = Path.Combine(_root, "registry-meta");
        Assert.Equal(0, (await RunAsync("models", "push", Path.Combine(SharedData.RepositoryRoot()!, "models", "ztf-bts", "1.0.0"), "--registry", registry)).Code);
        var csv = Path.Combine(_root, "meta.csv");
        await File.WriteAllTextAsync(csv, "object_id,host-redshift,mw-ebv\nZTF00aaaaaaa,0.1,0.02\n");
        foreach (var source in new[] { "host-redshift", "mw-ebv" })
        {
            var set = await RunAsync("models", "metadata", "set", "--survey", "ztf", "--source", source, "--csv", csv, "--registry", registry);
            Assert.True(set.Code == 0, set.Output);
        }

        var promoted = await RunAsync("models", "promote", "ztf-bts@1.0.0", "--registry", registry);
        Assert.True(promoted.Code == 0, promoted.Output);

        var run = await RunAsync("score", SharedData.Sample("ztf-real-50"), "--registry", registry);

        Assert.True(run.Code == 0, run.Output);
        Assert.Contains("warning: ztf-bts 1.0.0 needs host-redshift, mw-ebv, which alerts do not carry; score does not read the registry's metadata sources", run.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_CorruptActivePointer_NamesTheFile_ExitOne()
    {
        var registry = await RegistryWithAsync("1");
        await RunAsync("models", "promote", "mistake@1", "--registry", registry);
        var path = Path.Combine(registry, ".registry", "surveys", "ztf", "active.json");
        await File.WriteAllTextAsync(path, "garbage");

        var run = await RunAsync("score", SharedData.Sample("ztf-real-50"), "--registry", registry);

        Assert.Equal(1, run.Code);
        Assert.Contains(path + " is not valid JSON", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("surveys/ztf/active.json", true, "list")]
    [InlineData("surveys/ztf/active.json", true, "status")]
    [InlineData("surveys", false, "list")]
    [InlineData("surveys", false, "status")]
    [InlineData("metadata.json", true, "metadata list")]
    public async Task RegistryEntryOfTheWrongKind_OneLineNamingIt_ExitOne(string entry, bool directoryWhereAFileBelongs, string command)
    {
        // A directory where active.json belongs, or a file where surveys/ belongs, read as "nothing there": no active
        // model in list and status, and score --registry fell back to the newest package without a word.
        var registry = await RegistryWithAsync("1");
        await RunAsync("models", "promote", "mistake@1", "--registry", registry);
        var path = Path.Combine(registry, ".registry", entry);
        if (Directory.Exists(path))
        {
            Directory.Delete(path, recursive: true);
        }
        else
        {
            File.Delete(path);
        }

        if (directoryWhereAFileBelongs)
        {
            Directory.CreateDirectory(path);
        }
        else
        {
            await File.WriteAllTextAsync(path, "not a folder");
        }

        var run = await RunAsync([.. "models".Split(' '), .. command.Split(' '), "--registry", registry]);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains(path + (directoryWhereAFileBelongs ? " is a directory, not a file" : " is a file, not a directory"), run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_ActivePointerIsADirectory_NamesIt_ExitOne()
    {
        var registry = await RegistryWithAsync("1");
        await RunAsync("models", "promote", "mistake@1", "--registry", registry);
        var path = Path.Combine(registry, ".registry", "surveys", "ztf", "active.json");
        File.Delete(path);
        Directory.CreateDirectory(path);

        var run = await RunAsync("score", SharedData.Sample("ztf-real-50"), "--registry", registry);

        Assert.True(run.Code == 1, $"exit {run.Code}: {run.Output}");
        Assert.Contains(path + " is a directory, not a file", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Score_ActiveModelsStoredBytesDoNotMatch_ModelUnusableExitThree()
    {
        var registry = await RegistryWithAsync("1");
        await RunAsync("models", "promote", "mistake@1", "--registry", registry);
        await File.AppendAllTextAsync(Path.Combine(registry, "mistake", "1", "model.onnx"), "xx");

        var run = await RunAsync("score", SharedData.Sample("ztf-real-50"), "--registry", registry);

        Assert.Equal(3, run.Code);
        Assert.Contains("stored model.onnx has SHA-256", run.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Rollback_TargetsStoredBytesDoNotMatch_RefusedAndTheActiveModelStays()
    {
        var registry = await RegistryWithAsync("1", "2");
        Assert.Equal(0, (await RunAsync("models", "promote", "mistake@1", "--registry", registry)).Code);
        Assert.Equal(0, (await RunAsync("models", "promote", "mistake@2", "--registry", registry)).Code);
        await File.AppendAllTextAsync(Path.Combine(registry, "mistake", "1", "model.onnx"), "xx");

        var run = await RunAsync("models", "rollback", "--registry", registry);

        Assert.Equal(1, run.Code);
        Assert.Contains("cannot roll back ztf to mistake@1", run.Output, StringComparison.Ordinal);
        Assert.Equal("mistake@2", (await new DirectoryModelRegistry(registry).GetActiveAsync("ztf"))!.Ref.ToString());
    }

    [Theory]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("push")]
    public async Task RegistryIsAFile_SaysSo(string command)
    {
        var file = Path.Combine(_root, "registry.txt");
        await File.WriteAllTextAsync(file, "not a registry");
        var package = Export("1");

        var run = await RunAsync([.. command == "push" ? new[] { "models", "push", package } : ["models", command], "--registry", file]);

        Assert.Equal(2, run.Code);
        Assert.Contains("--registry " + file + " is a file", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find a part of the path", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("metadata list")]
    public async Task ReadOnlyCommand_OnAnExistingDirectory_CreatesNothing(string command)
    {
        var package = Export("1");

        var run = await RunAsync([.. "models".Split(' '), .. command.Split(' '), "--registry", package]);

        Assert.Equal(0, run.Code);
        Assert.False(Directory.Exists(Path.Combine(package, ".registry")));
    }

    [Fact]
    public async Task Push_PackageNoWorkerCanServe_ModelUnusableExitThree()
    {
        var package = Export("1");
        await File.WriteAllBytesAsync(Path.Combine(package, "model.onnx"), [1, 2, 3]);

        var run = await RunAsync("models", "push", package, "--registry", Path.Combine(_root, "new-registry"));

        Assert.Equal(3, run.Code);
        Assert.Contains("refused", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("model.json", false, "model.json is missing")]
    [InlineData("model.onnx", false, "model.onnx is missing")]
    [InlineData("model.json", true, "model.json is a directory, not a regular file")]
    [InlineData("model.onnx", true, "model.onnx is a directory, not a regular file")]
    public async Task Push_PackageMissingAFile_RefusedModelUnusableExitThree(string file, bool directoryInItsPlace, string problem)
    {
        // It was .NET's "Could not find file '…/model.json'", exit 1, where a corrupt file was refused with exit 3.
        var package = Export("1");
        File.Delete(Path.Combine(package, file));
        if (directoryInItsPlace)
        {
            Directory.CreateDirectory(Path.Combine(package, file));
        }

        var registry = Path.Combine(_root, "new-registry");

        var run = await RunAsync("models", "push", package, "--registry", registry);

        Assert.Equal(3, run.Code);
        Assert.Contains($"refused: {package} is not a package a worker can serve (1 problem):", run.Output, StringComparison.Ordinal);
        Assert.Contains("MissingFile: " + problem, run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("Could not find file", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("unexpected error", run.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(registry, ".registry", "1")));
    }

    [Theory]
    [InlineData("push {pkg}")]
    [InlineData("list")]
    [InlineData("status")]
    [InlineData("promote mistake@1")]
    [InlineData("rollback")]
    public async Task RedisAndRegistryDirectoryBoth_UsageErrorNothingDone(string command)
    {
        // push put the package in Redis and left --registry as it was, without a word; the others read Redis.
        var registry = Path.Combine(_root, "dir-registry");
        string[] args = [.. "models".Split(' '), .. command.Replace("{pkg}", Export("1"), StringComparison.Ordinal).Split(' '), "--redis", "127.0.0.1:1", "--registry", registry];

        var run = await RunAsync(args);

        Assert.Equal(2, run.Code);
        Assert.Contains("--redis and --registry are two registries: give one", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("unreachable", run.Output, StringComparison.Ordinal);
        Assert.False(Directory.Exists(registry));
    }

    [Fact]
    public async Task Score_TwoModelsDeclaringOneSurvey_UsageErrorNamingBoth()
    {
        var a = Export("1");
        var b = Export("2");

        var run = await RunAsync("score", SharedData.Sample("ztf-real-50"), "--model", a, "--model", b);

        Assert.Equal(2, run.Code);
        Assert.Contains($"--model {a} and --model {b} both declare the survey ztf", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("models inspect")]
    [InlineData("score")]
    public async Task PackagePathIsADanglingLink_UsageErrorSayingSo(string command)
    {
        // .NET says such a link exists as a file: it was "… is a file (--model): a model package is a directory …".
        var link = Path.Combine(_root, "gone-package");
        File.CreateSymbolicLink(link, Path.Combine(_root, "nowhere"));
        string[] args = command == "score" ? ["score", SharedData.Sample("ztf-real-50"), "--model", link] : ["models", "inspect", link];

        var run = await RunAsync(args);

        Assert.Equal(2, run.Code);
        Assert.Contains($"{link} is a symbolic link to {Path.Combine(_root, "nowhere")}, which does not exist", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("is a file", run.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("models inspect")]
    [InlineData("score")]
    public async Task PackagePathIsAFileOrEmpty_UsageErrorSayingWhatAPackageIs(string command)
    {
        var onnx = Path.Combine(Export("1"), "model.onnx");
        string[] Args(string path) => command == "score" ? ["score", SharedData.Sample("ztf-real-50"), "--model", path] : ["models", "inspect", path];

        var file = await RunAsync(Args(onnx));
        var empty = await RunAsync(Args(string.Empty));

        Assert.Equal(2, file.Code);
        Assert.Contains(onnx + " is a file", file.Output, StringComparison.Ordinal);
        Assert.Contains("a model package is a directory holding model.json and model.onnx", file.Output, StringComparison.Ordinal);
        Assert.Equal(2, empty.Code);
    }

    // Any text was accepted as a source ("Host Redshift", "HOST-REDSHIFT", a tab…): a declaration no model's
    // metadata[].source could ever match, and a name that forged lines in 'metadata list'.
    [Theory]
    [InlineData("Host Redshift")]
    [InlineData("HOST-REDSHIFT")]
    [InlineData("host\tredshift")]
    [InlineData("host\nztf/mw-ebv: redis-hash forged")]
    [InlineData("-redshift")]
    [InlineData("a/b")]
    public async Task MetadataSet_SourceNotAName_UsageErrorNothingDeclared(string source)
    {
        var registry = await RegistryWithAsync("1");

        var run = await RunAsync("models", "metadata", "set", "--survey", "ztf", "--source", source.Replace("\\t", "\t", StringComparison.Ordinal).Replace("\\n", "\n", StringComparison.Ordinal), "--redis-hash", "h", "--registry", registry);

        Assert.True(run.Code == 2, $"exit {run.Code}: {run.Output}");
        Assert.Contains("is not a metadata source name", run.Output, StringComparison.Ordinal);
        Assert.DoesNotContain(run.Output.Split('\n'), l => l.Contains("forged", StringComparison.Ordinal) && !l.Contains("is not a metadata source name", StringComparison.Ordinal));
        Assert.Empty(await new DirectoryModelRegistry(registry).GetMetadataSourcesAsync());
    }

    [Theory]
    [InlineData("host-redhsift", true)]
    [InlineData("host-redshift", false)]
    [InlineData("label", false)]
    public async Task MetadataSet_SourceNoModelDeclares_WarnsButDeclares(string source, bool warned)
    {
        var registry = await RegistryWithAsync("1");

        var run = await RunAsync("models", "metadata", "set", "--survey", "ztf", "--source", source, "--redis-hash", "h", "--registry", registry);

        Assert.True(run.Code == 0, $"exit {run.Code}: {run.Output}");
        Assert.Equal(warned, run.Output.Contains($"no model in this registry declares the metadata source '{source}'", StringComparison.Ordinal));
        Assert.Equal(source, Assert.Single(await new DirectoryModelRegistry(registry).GetMetadataSourcesAsync()).Source);
    }

    private static Task<AlertBrokerProcess.Finished> RunAsync(params string[] args) => AlertBrokerProcess.RunToEndAsync(args);

    private string Export(string version) =>
        TestModelPackages.Export(Path.Combine(_root, "export", "mistake" + version), "mistake", version, seed: int.Parse(version, System.Globalization.CultureInfo.InvariantCulture));

    private async Task<string> RegistryWithAsync(params string[] versions)
    {
        var registry = Path.Combine(_root, "registry");
        foreach (var version in versions)
        {
            Assert.Equal(0, (await RunAsync("models", "push", Export(version), "--registry", registry)).Code);
        }

        return registry;
    }
}
