using System.CommandLine;
using System.Text.RegularExpressions;
using AlertBroker.Model.Packaging;
using AlertBroker.Registry;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// Every command of the <c>alertbroker</c> tree (enumerated from the root command, so a new command without a case here
/// fails <see cref="EveryCommand_HasAFailureCase"/>) run as the built program in a child process: once with a broken
/// package (a model.onnx cut in half whose hash the manifest matches) and broken inputs, once from a copy of the program
/// whose libonnxruntime.so is truncated (with a valid package). Each must end with a non-zero exit code (or, for the
/// commands that never need ONNX Runtime, succeed without it) and a clear message: no stack trace, no "Unhandled
/// exception", never the last-resort "unexpected error" line.
/// </summary>
public sealed partial class EveryCommandFailureTests : IDisposable
{
    private static readonly Lazy<string> s_brokenRuntime = new(CreateBrokenRuntimeCopy);
    private readonly string _root = Directory.CreateTempSubdirectory("ab-every-command-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>What a case is given: a package, a registry holding it, a place to write, a path that does not exist.</summary>
    private sealed record Inputs(string Package, string Registry, string Out, string Missing);

    /// <summary>One command's failure case: its arguments, whether it needs ONNX Runtime, and what its message must say.</summary>
    private sealed record Case(Func<Inputs, string[]> Arguments, bool NeedsRuntime, string BrokenPackageMessage);

    // Keyed by the command path. demo gets a synthetic stream (--objects): run from a temporary folder by a copied program, it
    // finds ../shared only where the temporary folder happens to have one beside it. NeedsRuntime: with a valid package the command reaches ONNX Runtime first, so the broken
    // runtime must be what it reports. Otherwise the command fails on its broken inputs (or succeeds) without the runtime.
    private static readonly Dictionary<string, Case> s_cases = new(StringComparer.Ordinal)
    {
        ["demo"] = new(i => ["demo", "--model", i.Package, "--nights", "0", "--objects", "3"], true, "model unusable (invalid model package)"),
        ["run"] = new(i => ["run", "--model", i.Package, "--in-memory", "--bootstrap-servers", "127.0.0.1:9", "--topic", "t", "--http-port", "0"], true, "model unusable (invalid model package)"),
        ["mock-kafka"] = new(_ => ["mock-kafka", "--brokers", "0"], false, "--brokers must be between 1 and 16"),
        ["inspect"] = new(i => ["inspect", i.Missing], false, "no such file or directory"),
        ["replay"] = new(i => ["replay", i.Missing], false, "no such file or directory"),
        ["consume"] = new(_ => ["consume", "--topic", "t"], false, "consume needs --bootstrap-servers"),
        ["serve"] = new(i => ["serve", "--config", i.Missing, "--http-port", "0"], false, "configuration file not found"),
        ["models inspect"] = new(i => ["models", "inspect", i.Package], true, "OnnxLoadFailed"),
        ["models package"] = new(i => ["models", "package", "--onnx", Path.Combine(i.Package, "model.onnx"), "--classes", "a,b,c,d,e", "--encoding", "alertbroker-lc", "--out", Path.Combine(i.Out, "packaged", "1")], true, "does not fit: model.onnx is not an ONNX model"),
        ["models verify"] = new(i => ["models", "verify", i.Package, "--reference", Path.Combine(i.Package, "model.json")], true, "OnnxLoadFailed"),
        ["models push"] = new(i => ["models", "push", i.Package, "--registry", Path.Combine(i.Out, "new-registry")], false, "refused"),
        ["models list"] = new(i => ["models", "list", "--registry", Path.Combine(i.Registry, "models.json.lock-is-a-file")], false, "no registry directory"),
        ["models status"] = new(i => ["models", "status", "--registry", Path.Combine(i.Registry, "models.json.lock-is-a-file")], false, "no registry directory"),
        ["models promote"] = new(i => ["models", "promote", "every@1", "--registry", i.Registry], true, "refused"),
        ["models rollback"] = new(i => ["models", "rollback", "--registry", i.Registry], false, "no model is active"),
        ["models shadow"] = new(i => ["models", "shadow", "--registry", i.Registry], false, "give NAME@VERSION, or --clear --survey S"),
        ["models metadata set"] = new(i => ["models", "metadata", "set", "--survey", "ztf", "--source", "host-redshift", "--registry", i.Registry], false, "give exactly one of a CSV file or a Redis hash"),
        ["models metadata remove"] = new(i => ["models", "metadata", "remove", "--survey", "ztf", "--source", "host-redshift", "--registry", i.Registry], false, "was not declared"),
        ["models metadata list"] = new(i => ["models", "metadata", "list", "--registry", Path.Combine(i.Registry, "models.json.lock-is-a-file")], false, "no registry directory"),
        ["models migrate"] = new(_ => ["models", "migrate"], false, "--redis is required"),
        ["models average"] = new(i => ["models", "average", i.Package, i.Missing, "--out", Path.Combine(i.Out, "average", "1")], false, "models average: "),
        ["models ensemble"] = new(i => ["models", "ensemble", i.Package, i.Missing, "--out", Path.Combine(i.Out, "ensemble", "1")], false, "models ensemble: "),
        ["models priors"] = new(i => ["models", "priors", i.Package, "--priors", "not-a-class=1", "--out", Path.Combine(i.Out, "priors", "1")], false, "is not a sound model package"),
        ["score"] = new(i => ["score", "--model", i.Package, i.Out], true, "model unusable (invalid model package)"),
        ["bench decode"] = new(i => ["bench", "decode", i.Out], false, "no messages read"),
        ["bench pipeline"] = new(i => ["bench", "pipeline", "--model", i.Package, "--objects", "10"], true, "model unusable (invalid model package)"),
        ["train"] = new(i => ["train", "--data", i.Missing, "--out", Path.Combine(i.Out, "trained", "1")], false, "no such file or directory"),
        ["finetune"] = new(i => ["finetune", "--from", i.Package, "--data", i.Missing], false, "no such file or directory"),
        ["evaluate"] = new(i => ["evaluate", "--model", i.Package, "--data", i.Missing], false, "no such file or directory"),
        ["experiment transfer"] = new(i => ["experiment", "transfer", "--base", i.Package, "--ztf-sim", i.Missing, "--bts", i.Missing, "--des", i.Missing, "--out", Path.Combine(i.Out, "transfer"), "--quick"], false, "no such file or directory"),
        ["split"] = new(i => ["split", "--data", i.Missing, "--classes", "A,B", "--out", Path.Combine(i.Out, "ids.txt")], false, "no such file or directory"),
        ["simulate lightcurves"] = new(_ => ["simulate", "lightcurves", "--survey", "ztf", "--n", "5", "--out", "/proc/alertbroker-cannot-write-here"], false, "cannot write the output"),
        ["simulate alerts"] = new(_ => ["simulate", "alerts", "--survey", "ztf", "--nights", "1", "--out", "/proc/alertbroker-cannot-write-here"], false, "cannot write the output"),
        ["simulate compare"] = new(i => ["simulate", "compare", "--real", i.Missing, "--out", Path.Combine(i.Out, "compare")], false, "no such directory"),
        ["simulate tune"] = new(i => ["simulate", "tune", "--real", i.Missing, "--exclude-ids", i.Missing, "--out", Path.Combine(i.Out, "tune")], false, "no such directory"),
    };

    [Fact]
    public void EveryCommand_HasAFailureCase()
    {
        var leaves = Leaves(AlertBrokerCommand.Create(), string.Empty).ToList();

        Assert.Empty(leaves.Except(s_cases.Keys));
        Assert.Empty(s_cases.Keys.Except(leaves));
    }

    [Fact]
    public async Task EveryCommand_BrokenPackageAndInputs_OneClearLineAndNonZeroExit()
    {
        var inputs = Prepare(valid: false);
        var failures = await RunAllAsync(AlertBrokerProcess.ProgramPath, inputs, (name, c, exit, output) =>
        {
            if (exit == 0)
            {
                return "exit 0";
            }

            return output.Contains(c.BrokenPackageMessage, StringComparison.Ordinal) ? null : $"no line says \"{c.BrokenPackageMessage}\"";
        });

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    [Fact]
    public async Task EveryCommand_TruncatedOnnxRuntime_SaysSoOrDoesNotNeedIt()
    {
        var inputs = Prepare(valid: true);
        var failures = await RunAllAsync(Path.Combine(s_brokenRuntime.Value, "alertbroker"), inputs, (name, c, exit, output) =>
        {
            if (c.NeedsRuntime)
            {
                if (exit == 0)
                {
                    return "exit 0 although ONNX Runtime cannot load";
                }

                return output.Contains("libonnxruntime.so", StringComparison.Ordinal) && output.Contains("truncated", StringComparison.Ordinal)
                    ? null
                    : "does not say that libonnxruntime.so is truncated";
            }

            // Commands that never run a model work (push: the package is checked from its files) or fail on their inputs.
            return name == "models push" ? (exit == 0 ? null : $"push needs no ONNX Runtime but exited {exit}") : exit == 0 ? "exit 0 on broken inputs" : null;
        });

        Assert.True(failures.Count == 0, string.Join("\n\n", failures));
    }

    private static IEnumerable<string> Leaves(Command command, string path)
    {
        if (command.Subcommands.Count == 0)
        {
            yield return path;
            yield break;
        }

        foreach (var sub in command.Subcommands)
        {
            foreach (var leaf in Leaves(sub, path.Length == 0 ? sub.Name : path + " " + sub.Name))
            {
                yield return leaf;
            }
        }
    }

    // A package (valid, or with its model.onnx cut in half and re-hashed), and a directory registry holding "every@1" (valid,
    // or with its stored ONNX bytes damaged after the push).
    private Inputs Prepare(bool valid)
    {
        var kind = valid ? "valid" : "broken";
        var package = TestModelPackages.Export(Path.Combine(_root, kind, "every", "1"), "every", "1", seed: 3);
        var registry = Directory.CreateDirectory(Path.Combine(_root, kind + "-registry")).FullName;
        var bytes = new ModelPackageBytes(File.ReadAllBytes(Path.Combine(package, "model.json")), File.ReadAllBytes(Path.Combine(package, "model.onnx")));
        new DirectoryModelRegistry(registry).PushAsync(bytes, "test").GetAwaiter().GetResult();
        if (!valid)
        {
            var onnxPath = Path.Combine(package, ModelPackage.OnnxFileName);
            var onnx = File.ReadAllBytes(onnxPath)[..(int)(new FileInfo(onnxPath).Length / 2)];
            File.WriteAllBytes(onnxPath, onnx);
            var manifestPath = Path.Combine(package, ModelPackage.ManifestFileName);
            var manifest = ModelPackage.ParseManifest(File.ReadAllBytes(manifestPath));
            File.WriteAllBytes(manifestPath, ModelPackage.SerializeManifest(manifest with { Onnx = manifest.Onnx with { Sha256 = ModelPackage.ComputeSha256(onnx) } }));
            File.WriteAllBytes(Path.Combine(registry, "every", "1", ModelPackage.OnnxFileName), onnx);
        }

        File.WriteAllText(Path.Combine(registry, "models.json.lock-is-a-file"), "not a directory");
        var output = Directory.CreateDirectory(Path.Combine(_root, kind + "-out")).FullName;
        return new Inputs(package, registry, output, Path.Combine(_root, "does-not-exist"));
    }

    private async Task<List<string>> RunAllAsync(string program, Inputs inputs, Func<string, Case, int, string, string?> judge)
    {
        Assert.True(File.Exists(program), $"{program} was not built");
        var failures = new List<string>();
        using var gate = new SemaphoreSlim(3);
        var runs = s_cases.Select(async pair =>
        {
            await gate.WaitAsync();
            try
            {
                var arguments = pair.Value.Arguments(inputs);
                var (exit, output) = await RunAsync(program, arguments);
                var problem = Problem(output) ?? judge(pair.Key, pair.Value, exit, output);
                if (problem is not null)
                {
                    lock (failures)
                    {
                        failures.Add($"{pair.Key} ({string.Join(' ', arguments)}): {problem}; exit {exit}; output:\n{output}");
                    }
                }
            }
            finally
            {
                gate.Release();
            }
        });
        await Task.WhenAll(runs);
        return failures;
    }

    // What no command may print: a stack trace, the default handler's "Unhandled exception", the last-resort line.
    private static string? Problem(string output)
    {
        if (output.Contains("Unhandled exception", StringComparison.Ordinal))
        {
            return "an unhandled exception";
        }

        if (output.Contains("alertbroker: unexpected error", StringComparison.Ordinal))
        {
            return "the last-resort handler caught an exception the command did not handle";
        }

        if (StackFrame().IsMatch(output))
        {
            return "a stack trace";
        }

        return string.IsNullOrWhiteSpace(output) ? "no message at all" : null;
    }

    private async Task<(int Exit, string Output)> RunAsync(string program, string[] arguments)
    {
        var finished = await AlertBrokerProcess.RunToEndAsync(arguments, workingDirectory: _root, program: program);
        return (finished.Code, finished.Stdout + finished.Stderr);
    }

    // A copy of the built program whose libonnxruntime.so is cut to 4 KB: the apphost, alertbroker.dll and its json files are
    // copied (the host takes the application folder from them), everything else is a symbolic link to the build output.
    private static string CreateBrokenRuntimeCopy()
    {
        var source = AppContext.BaseDirectory;
        var target = Directory.CreateTempSubdirectory("ab-broken-runtime-").FullName;
        foreach (var file in Directory.GetFiles(source))
        {
            var name = Path.GetFileName(file);
            var destination = Path.Combine(target, name);
            if (name == "libonnxruntime.so")
            {
                using var input = File.OpenRead(file);
                var head = new byte[4096];
                input.ReadExactly(head);
                File.WriteAllBytes(destination, head);
            }
            else if (name is "alertbroker" or "alertbroker.dll" or "alertbroker.deps.json" or "alertbroker.runtimeconfig.json" or "appsettings.json")
            {
                // File.Copy keeps the permission bits, so the apphost stays executable.
                File.Copy(file, destination);
            }
            else
            {
                File.CreateSymbolicLink(destination, file);
            }
        }

        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try
            {
                Directory.Delete(target, recursive: true);
            }
            catch (IOException)
            {
            }
        };
        return target;
    }

    [GeneratedRegex(@"^\s+at \S+.*\(", RegexOptions.Multiline)]
    private static partial Regex StackFrame();
}
