using System.CommandLine;
using System.Globalization;
using AlertBroker.Model.Features;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;

namespace AlertBroker.Cli.Commands;

/// <summary>
/// <c>alertbroker models package</c> (an ONNX classifier trained elsewhere → a validated package) and <c>models verify</c>
/// (a package's outputs against its training framework's, from a reference JSON). Exit codes: 0 done; 1 the graph does not
/// fit / the outputs differ beyond the tolerance; 2 unusable arguments or reference file; 3 model or ONNX Runtime unusable.
/// </summary>
internal static class ModelPackagingCommands
{
    public const int DoesNotFit = 1;
    public const int BadArguments = 2;

    public static void AddTo(Command models)
    {
        models.Subcommands.Add(CreatePackage());
        models.Subcommands.Add(CreateVerify());
    }

    private static Command CreatePackage()
    {
        var onnx = new Option<string>("--onnx") { Description = "The ONNX file (e.g. from torch.onnx.export).", Required = true }.MustExist(PathKind.File);
        var classes = new Option<string>("--classes") { Description = "Class names, comma-separated, in the order of the probabilities' last dimension.", Required = true };
        var encoding = new Option<string>("--encoding") { Description = $"Feature encoding the network was trained with, NAME or NAME@VERSION: {StepEncodings.Describe()}.", Required = true };
        classes.Validators.Add(result =>
        {
            if (CliHelpers.TryGetValue(result, out string? list) && list is not null && ClassesProblem(list) is { } problem)
            {
                result.AddError(problem);
            }
        });
        var name = new Option<string?>("--name") { Description = "Model name (default: the parent folder of --out)." }.PathSegment();
        var version = new Option<string?>("--version") { Description = "Model version (default: the last folder of --out)." }.PathSegment();
        var surveys = new Option<string?>("--surveys") { Description = "Surveys the model is for, comma-separated (ztf, lsst; default ztf)." };
        surveys.Validators.Add(result =>
        {
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? list) && list is not null && SurveysProblem(list) is { } problem)
            {
                result.AddError(problem);
            }
        });
        var output = new Option<string>("--out") { Description = "Package directory to write (models/<name>/<version>); must not hold a package yet.", Required = true }.OutputDirectory();
        var inputX = new Option<string?>("--input-x") { Description = "Graph input holding the step features [batch, steps, F] (default: found by name 'x' or shape)." };
        var stateIn = new Option<string?>("--state-in") { Description = "Graph input holding the recurrent state [layers, batch, hidden] (default: 'h0' or found by shape; none when the graph has no state)." };
        var stateOut = new Option<string?>("--state-out") { Description = "Graph output holding the state after the last step (default: 'hn' or the output shaped like the state in)." };
        var probs = new Option<string?>("--probs") { Description = "Graph output holding the probabilities [batch, steps, classes] (default: 'probs' or found by shape)." };
        var lengths = new Option<string?>("--lengths") { Description = "Graph input holding per-row lengths [batch] (default: 'lengths' or the only integer input; none when absent)." };
        var meta = new Option<string?>("--meta") { Description = "Graph input holding the metadata vector [batch, M] (default: 'meta' or the only [batch, M] float input)." };
        var detectionsOnly = new Option<bool>("--detections-only") { Description = "The network was trained on detections only: the worker then feeds it an object's detections, never its forced photometry (model.json encoding.detectionsOnly)." };
        var device = ModelCli.DeviceOption();
        var command = new Command("package", "Package an ONNX classifier trained elsewhere: map its tensors onto the scoring contract, write model.json, validate in ONNX Runtime with a smoke batch (exit 1 listing what does not fit).")
        {
            onnx, classes, encoding, name, version, surveys, output, inputX, stateIn, stateOut, probs, lengths, meta, detectionsOnly, device,
        };
        command.SetAction(parse => Package(
            new PackageArguments(
                parse.GetValue(onnx)!,
                parse.GetValue(classes)!,
                parse.GetValue(encoding)!,
                parse.GetValue(name),
                parse.GetValue(version),
                parse.GetValue(surveys),
                parse.GetValue(output)!,
                new TensorRoles
                {
                    Steps = parse.GetValue(inputX),
                    StateIn = parse.GetValue(stateIn),
                    StateOut = parse.GetValue(stateOut),
                    Probabilities = parse.GetValue(probs),
                    Lengths = parse.GetValue(lengths),
                    Metadata = parse.GetValue(meta),
                },
                parse.GetValue(device),
                parse.GetValue(detectionsOnly)),
            Console.Out,
            Console.Error));
        return command;
    }

    private static Command CreateVerify()
    {
        // Checked at parse time as for models inspect: a path that does not exist or a file is a usage error (exit 2), not
        // "model unusable … does not exist" (exit 3).
        var dir = ModelsCommand.PackageDirectory(new Argument<string>("dir") { Description = "The package directory (model.json and model.onnx)." });
        var reference = new Option<string>("--reference") { Description = "JSON object: keys naming graph inputs are fed (nested arrays), keys naming outputs are compared, other keys ignored.", Required = true }.MustExist(PathKind.File);
        var tolerance = new Option<double>("--tolerance") { Description = "Largest allowed |difference| per element.", DefaultValueFactory = _ => 1e-4 };
        tolerance.Validators.Add(result =>
        {
            if (CliHelpers.TryGetValue(result, out double value) && (!(value >= 0) || double.IsInfinity(value)))
            {
                result.AddError("--tolerance must be a finite number ≥ 0.");
            }
        });
        var device = ModelCli.DeviceOption();
        var command = new Command("verify", "Run a package on reference inputs recorded in its training framework and compare the outputs (exit 1 beyond the tolerance).") { dir, reference, tolerance, device };
        command.SetAction(parse => Verify(parse.GetValue(dir)!, parse.GetValue(reference)!, parse.GetValue(tolerance), Console.Out, Console.Error, parse.GetValue(device)));
        return command;
    }

    internal sealed record PackageArguments(
        string Onnx,
        string Classes,
        string Encoding,
        string? Name,
        string? Version,
        string? Surveys,
        string Out,
        TensorRoles Overrides,
        string? Device = null,
        bool DetectionsOnly = false);

    /// <summary>The largest reference-output file `models verify` reads (bytes).</summary>
    internal const long MaxReferenceBytes = 1L << 30;

    /// <summary>
    /// A file option's bytes, refused (<see cref="IOException"/>, one line) when it is not a regular file or is larger than
    /// <paramref name="max"/>: /dev/zero was read until memory ran out ("unexpected error", exit 70), a named pipe waited
    /// for a writer forever.
    /// </summary>
    internal static byte[] ReadRegularFile(string path, string option, long max)
    {
        if (AlertBroker.Alerts.Archives.FileType.NotRegular(path) is { } kind)
        {
            throw new IOException($"{option} {path} is {kind}, not a regular file");
        }

        var length = new FileInfo(path).Length;
        return length > max
            ? throw new IOException(string.Create(CultureInfo.InvariantCulture, $"{option} {path} is {length:N0} bytes, more than the {max:N0} read"))
            : File.ReadAllBytes(path);
    }

    /// <summary>
    /// <see cref="ReadRegularFile"/>'s checks, then the file open for reading rather than read: the reference is read as a
    /// stream (<see cref="ReferenceVerifier"/>), so that its bytes are never all in memory.
    /// </summary>
    internal static FileStream OpenRegularFile(string path, string option, long max)
    {
        if (AlertBroker.Alerts.Archives.FileType.NotRegular(path) is { } kind)
        {
            throw new IOException($"{option} {path} is {kind}, not a regular file");
        }

        var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        if (stream.Length > max)
        {
            var length = stream.Length;
            stream.Dispose();
            throw new IOException(string.Create(CultureInfo.InvariantCulture, $"{option} {path} is {length:N0} bytes, more than the {max:N0} read"));
        }

        return stream;
    }

    /// <summary>Exit 0 with the package written, 1 listing what does not fit, 2 for unusable arguments, 3 when ONNX Runtime cannot be used.</summary>
    internal static int Package(PackageArguments arguments, TextWriter output, TextWriter errors)
    {
        if (DerivedPackages.OutNamesProblem(arguments.Out, arguments.Name, arguments.Version) is { } outProblem)
        {
            errors.WriteLine($"models package: {outProblem}");
            return BadArguments;
        }

        IStepEncoding encoding;
        byte[] bytes;
        try
        {
            encoding = StepEncodings.Parse(arguments.Encoding);
            encoding = arguments.DetectionsOnly ? StepEncodings.DetectionsOnly(encoding) : encoding;
            bytes = ReadRegularFile(arguments.Onnx, "--onnx", ModelPackage.MaxOnnxBytes);
        }
        catch (Exception e) when (e is ArgumentException or IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"models package: {ModelCli.OneLine(e)}");
            return BadArguments;
        }

        var full = Path.GetFullPath(arguments.Out);
        var names = DerivedPackages.NamesFor(arguments.Out, arguments.Name, arguments.Version);
        if (File.Exists(Path.Combine(full, ModelPackage.ManifestFileName)))
        {
            errors.WriteLine($"models package: {full} already holds a package (model.json); write a new version directory");
            return BadArguments;
        }

        var request = new PackageRequest
        {
            Onnx = bytes,
            Source = Path.GetFileName(arguments.Onnx),
            Classes = Split(arguments.Classes),
            Encoding = encoding,
            Name = names.Name,
            Version = names.Version,
            Surveys = arguments.Surveys is null ? null : Split(arguments.Surveys),
            Overrides = arguments.Overrides,
        };

        PackagingResult result;
        try
        {
            result = ModelPackager.Package(request, full, ModelCli.SessionOptions(arguments.Device, intraOpThreads: 1));
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            return ModelCli.ReportModelUnusable(e);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            errors.WriteLine($"models package: cannot write {full}: {ModelCli.OneLine(e)}");
            return BadArguments;
        }

        if (!result.Succeeded)
        {
            errors.WriteLine($"models package: {arguments.Onnx} does not fit the scoring contract ({result.Problems.Count} problem{(result.Problems.Count == 1 ? string.Empty : "s")}):");
            foreach (var problem in result.Problems)
            {
                errors.WriteLine("does not fit: " + OneLine(problem));
            }

            return DoesNotFit;
        }

        var m = result.Manifest!;
        var roles = m.EffectiveRoles;
        var inv = CultureInfo.InvariantCulture;
        output.WriteLine($"packaged {m.Name} {m.Version} in {full}");
        output.WriteLine($"  encoding      {m.Encoding.Name} v{m.Encoding.Version}: {string.Join(", ", m.Encoding.StepFeatures)}; fed {(m.EffectiveDetectionsOnly ? "detections only (--detections-only)" : "detections and forced photometry")}");
        output.WriteLine($"  classes       {string.Join(", ", m.Classes)}");
        output.WriteLine($"  surveys       {string.Join(", ", m.EffectiveSurveys)}{(arguments.Surveys is null ? " (default; --surveys to change)" : string.Empty)}");
        foreach (var (role, tensor) in new[] { ("step features", roles.Steps), ("metadata", roles.Metadata), ("state in", roles.StateIn), ("state out", roles.StateOut), ("lengths", roles.Lengths), ("probabilities", roles.Probabilities) })
        {
            var spec = tensor is null ? null : m.Tensors.Inputs.Concat(m.Tensors.Outputs).FirstOrDefault(t => t.Name == tensor);
            output.WriteLine(string.Create(inv, $"  {role,-14}{(spec is null ? "(none)" : $"{spec.Name} {spec.ElementType} [{string.Join(", ", spec.Shape.Select(d => d < 0 ? "?" : d.ToString(inv)))}]")}"));
        }

        output.WriteLine($"  onnx          opset {m.Onnx.Opset}, producer {m.Onnx.Producer}, sha256 {m.Onnx.Sha256}");
        foreach (var note in result.Notes)
        {
            output.WriteLine("  note: " + note);
        }

        output.WriteLine("  validated in ONNX Runtime: loads, valid probabilities, rows of one batch independent" + (roles.Lengths is null ? string.Empty : ", padded rows equal rows alone") + (roles.HasState ? ", the state continues exactly" : string.Empty));
        return 0;
    }

    /// <summary>Exit 0 within the tolerance, 1 beyond it, 2 for an unusable reference file, 3 when the package or ONNX Runtime cannot be used.</summary>
    internal static int Verify(string directory, string referencePath, double tolerance, TextWriter output, TextWriter errors, string? device = null)
    {
        ModelPackage package;
        try
        {
            // The smoke batch too, as every command that loads a package by path: a network that gives NaN is unusable
            // (exit 3), whatever a reference recorded from it says.
            package = ModelPackager.Verified(ModelPackage.Load(directory, StepEncodings.Ids, ModelCli.SessionOptions(device, intraOpThreads: 1)), directory);
        }
        catch (Exception e) when (ModelCli.IsModelUnusable(e))
        {
            return ModelCli.ReportModelUnusable(e);
        }

        using (package)
        {
            VerificationResult result;
            try
            {
                using var reference = OpenRegularFile(referencePath, "--reference", MaxReferenceBytes);
                result = ReferenceVerifier.Verify(package.Session, reference, tolerance);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException)
            {
                errors.WriteLine($"models verify: cannot read the reference {referencePath}: {ModelCli.OneLine(e)}");
                return BadArguments;
            }
            catch (ReferenceFormatException e)
            {
                errors.WriteLine($"models verify: {referencePath}: {OneLine(e.Message)}");
                return BadArguments;
            }
            catch (OnnxRuntimeException e)
            {
                return ModelCli.ReportModelUnusable(e, $"running {directory}");
            }

            var inv = CultureInfo.InvariantCulture;
            output.WriteLine($"fed {string.Join(", ", result.Fed)} from {referencePath}{(result.Ignored.Count == 0 ? string.Empty : $" (ignored keys: {IgnoredKeys(result.Ignored)})")}");
            foreach (var o in result.Outputs)
            {
                output.WriteLine(string.Create(inv, $"{o.Output} [{string.Join(", ", o.Shape)}]: max |difference| {o.MaxAbsDifference:G3} at [{string.Join(", ", o.WorstIndex)}] — {(o.Within(tolerance) ? "ok" : "BEYOND")} (tolerance {tolerance:G3})"));
            }

            output.WriteLine(result.Passed ? "verified: every compared output is within the tolerance" : "NOT verified: outputs differ beyond the tolerance");
            return result.Passed ? 0 : DoesNotFit;
        }
    }

    // The arguments model.json would refuse are said as the argument that is wrong (exit 2), not as a graph that "does
    // not fit the scoring contract" (exit 1).
    internal static string? ClassesProblem(string list)
    {
        var names = Split(list);
        if (names.Length == 0)
        {
            return "--classes needs the class names, comma-separated, not an empty list.";
        }

        // An empty entry (A,,B or a trailing comma) was dropped without a word, and a name model.json refuses (A=1, one of
        // 100,000 characters) was "does not fit the scoring contract", exit 1, or packaged, until 2026-12-07.
        if (HasEmptyEntry(list))
        {
            return "--classes has an empty name (two commas in a row, or one at either end); list every class once, comma-separated.";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names)
        {
            if (n.Any(char.IsControl))
            {
                return "--classes must not hold a line break or another control character.";
            }

            if (ModelPackage.ClassNameProblem(n) is { } problem)
            {
                return $"--classes: '{ModelPackage.ShownShort(n)}' cannot be a class name: {problem}.";
            }

            if (!seen.Add(n))
            {
                return $"--classes names '{n}' twice; each class once, in the order of the probabilities.";
            }
        }

        return null;
    }

    internal static string? SurveysProblem(string list)
    {
        string[] known = [SurveyNames.Ztf, SurveyNames.Lsst];
        var names = Split(list);
        if (names.Length == 0)
        {
            return "--surveys needs survey names (ztf, lsst), not an empty list.";
        }

        if (HasEmptyEntry(list))
        {
            return "--surveys has an empty name (two commas in a row, or one at either end); list the surveys comma-separated (ztf, lsst).";
        }

        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (var n in names)
        {
            if (!known.Contains(n, StringComparer.Ordinal))
            {
                var lower = n.ToLowerInvariant();
                return known.Contains(lower, StringComparer.Ordinal)
                    ? $"--surveys: '{n}' is written '{lower}' (survey names are lower-case)."
                    : $"--surveys: '{n}' is not a survey the broker scores ({string.Join(", ", known)}).";
            }

            if (!seen.Add(n))
            {
                return $"--surveys names '{n}' twice.";
            }
        }

        return null;
    }

    /// <summary>The most ignored keys <c>models verify</c> names; the rest are counted.</summary>
    internal const int MaxIgnoredKeysShown = 10;

    // 200,000 ignored keys printed one line of 2.7 MB until 2026-12-07.
    internal static string IgnoredKeys(IReadOnlyList<string> ignored) =>
        ignored.Count <= MaxIgnoredKeysShown
            ? string.Join(", ", ignored)
            : string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", ignored.Take(MaxIgnoredKeysShown))} and {ignored.Count - MaxIgnoredKeysShown} more");

    private static bool HasEmptyEntry(string list) => list.Split(',', StringSplitOptions.TrimEntries).Any(e => e.Length == 0);

    private static string[] Split(string list) => list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private static string OneLine(string text) =>
        string.Join(' ', text.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
}
