using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using AlertBroker.Simulation;
using AlertBroker.Simulation.Output;
using AlertBroker.Simulation.Populations;
using AlertBroker.Simulation.Surveys;
using AlertBroker.Simulation.Validation;
using Spectre.Console;

namespace AlertBroker.Cli.Commands;

/// <summary><c>alertbroker simulate lightcurves|alerts|compare</c>: simulated labelled light curves and alert streams.</summary>
internal static class SimulateCommand
{
    public static Command Create()
    {
        var command = new Command("simulate", "Simulate labelled ZTF/LSST light curves and alert streams, and compare simulations with real data.");
        command.Subcommands.Add(LightCurves());
        command.Subcommands.Add(Alerts());
        command.Subcommands.Add(Compare());
        command.Subcommands.Add(Tune());
        return command;
    }

    private static Option<string> SurveyOption()
    {
        var option = new Option<string>("--survey")
        {
            Description = "ztf or lsst.",
            DefaultValueFactory = _ => "ztf",
        };
        option.AcceptOnlyFromAmong("ztf", "lsst");
        return option;
    }

    private static Option<long> SeedOption() => new("--seed")
    {
        Description = "Random seed: the same seed and options give the same output.",
        DefaultValueFactory = _ => 1,
    };

    private static Command LightCurves()
    {
        var survey = SurveyOption();
        var n = new Option<long>("--n") { Description = "Number of light curves.", DefaultValueFactory = _ => 1000 }.AtLeast(1);
        var output = new Option<string>("--out") { Description = "Output directory for {prefix}_lightcurves.csv.gz and {prefix}_metadata.csv.", Required = true }.OutputDirectory();
        var seed = SeedOption();
        var mix = new Option<string>("--mix") { Description = "Class mix: equal (default), natural (as a flux-limited survey sees them), or weights like SNIa=0.6,SNII=0.3,…", DefaultValueFactory = _ => "equal" };
        var classes = new Option<string?>("--classes") { Description = "Comma-separated classes (default SNIa,SNII,SNIbc,SLSN-I,TDE; SNIIn also available)." };
        var bts = new Option<bool>("--bts") { Description = "Apply a Bright-Transient-Survey-like spectroscopic selection (complete to 18.5 mag, none beyond 19)." };
        var scatter = new Option<double>("--extra-scatter") { Description = "Extra Gaussian scatter (mag) on every true flux, 0 to 5." }.InRange(0.0, 5.0);
        var outliers = new Option<double>("--outliers") { Description = "Fraction of epochs made outliers, 0 to 1." }.InRange(0.0, 1.0);
        var missing = new Option<double>("--missing") { Description = "Fraction of epochs dropped, from 0 up to (not including) 1." };
        missing.Validators.Add(result =>
        {
            // 1 drops every epoch: nothing is ever detected, and the simulator gave up with "unexpected error".
            if (!result.Implicit && CliHelpers.TryGetValue(result, out double value) && !(value is >= 0 and < 1))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--missing must be a fraction from 0 up to (not including) 1, not {value}."));
            }
        });
        var prefix = new Option<string?>("--prefix") { Description = "File prefix (default {survey}_sim): a file name, not a path." }.NotBlank();
        prefix.Validators.Add(result =>
        {
            // A prefix is part of a file name in --out: '../../x' wrote outside it.
            if (!result.Implicit && CliHelpers.TryGetValue(result, out string? value) && value is not null && !LabelledCsvWriter.IsPlainPrefix(value) && !string.IsNullOrWhiteSpace(value))
            {
                result.AddError($"--prefix is part of a file name in --out: no '/', '\\' or '..', not '{value}'.");
            }
        });
        var efficiency = new Option<double?>("--detection-efficiency-mag") { Description = "Detection efficiency near the 5σ threshold, δ in mag: a point Δ mag above it is detected with probability 1 − exp(−Δ/δ) (default: the survey's, 0 = every point above the threshold)." };
        var firstSigma = new Option<double?>("--first-detection-sigma") { Description = "S/N an object's first detection needs (points before the first one at this S/N are not detections; later ones need 5σ). Default: the survey's (5σ for every point)." };
        var parameters = new Option<string?>("--parameters") { Description = "A tuned-parameters.json written by 'simulate tune' (or the run's directory): its classes replace the built-in ones of the same name, and (with --survey ztf) its field-night probability and depth offset the survey's." }.MustExist(PathKind.FileOrDirectory);
        var command = new Command("lightcurves", "Simulate N labelled light curves as a CSV pair (FLUXCAL, zero point 27.5, like the DES simulations).")
        {
            survey, n, output, seed, mix, classes, bts, scatter, outliers, missing, prefix, efficiency, firstSigma, parameters,
        };
        command.SetAction((parse, ct) => Task.FromResult(Guard("simulate lightcurves", () =>
        {
            var model = SurveyModel.ByName(parse.GetValue(survey)!);
            if (parse.GetValue(efficiency) is { } delta)
            {
                if (!(delta is >= 0 and <= 5))
                {
                    throw new ArgumentException($"--detection-efficiency-mag must be in [0, 5] mag, not {delta.ToString(CultureInfo.InvariantCulture)}.");
                }

                model = model with { DetectionEfficiencyMag = delta };
            }

            if (parse.GetValue(firstSigma) is { } first)
            {
                if (!(first is >= 0 and <= 100))
                {
                    throw new ArgumentException($"--first-detection-sigma must be in [0, 100], not {first.ToString(CultureInfo.InvariantCulture)}.");
                }

                model = model with { FirstDetectionSigma = first };
            }

            TunedParameters? tuned = null;
            if (parse.GetValue(parameters) is { } file)
            {
                try
                {
                    tuned = TunedParameters.Read(file);
                }
                catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
                {
                    CliHelpers.Stderr.MarkupLine($"[red]simulate lightcurves: cannot use --parameters:[/] {Markup.Escape(e.Message)}");
                    return 1;
                }

                model = model.Name == ZtfSurvey.Model.Name ? tuned.Apply(model) : model;
            }

            var options = BuildOptions(model, parse.GetValue(seed), parse.GetValue(mix)!, parse.GetValue(classes)) with
            {
                Selection = parse.GetValue(bts) ? SpectroscopicSelection.Bts : null,
                Realism = new RealismOptions(parse.GetValue(scatter), parse.GetValue(outliers), 8, parse.GetValue(missing)),
            };
            if (tuned is not null)
            {
                options = options with { Classes = tuned.Apply(options.Classes) };
            }

            return RunLightCurves(options, parse.GetValue(n), parse.GetValue(output)!, parse.GetValue(prefix) ?? model.Name + "_sim", ct);
        })));
        return command;
    }

    private static Command Alerts()
    {
        var survey = SurveyOption();
        var nights = new Option<int>("--nights") { Description = "Number of nights.", DefaultValueFactory = _ => 1 }.AtLeast(1);
        var output = new Option<string>("--out") { Description = "Output directory (or a .avro file with --format avro).", Required = true };
        output.Validators.Add(result =>
        {
            if (CliHelpers.TryGetValue(result, out string? value) && string.IsNullOrWhiteSpace(value))
            {
                result.AddError("--out needs a path, not an empty string");
            }
        });
        var seed = SeedOption();
        var format = new Option<string>("--format") { Description = "files (one .avro per alert in a folder per night), tar (nightly .tar.gz archives) or avro (one container file).", DefaultValueFactory = _ => "files" };
        // NaN, infinities and rates above the simulator's bound reached the disk-space estimate first: exit 1, "would write
        // about NaN kB"; a rate as small as 1e-14 placed the objects' peaks beyond MJD 2^53 and the run hung for ever.
        var rate = ObjectsPerNightOption("Detectable transients peaking per night (sets the alert rate; 0.001 to 1e6).", 20);
        var noCutouts = new Option<bool>("--no-cutouts") { Description = "Leave the cutouts out (small messages)." };
        var start = new Option<double?>("--start-mjd") { Description = "First night (a whole MJD), inside the survey's window the decoder accepts (ztf 58030 to 63000, lsst 60365 to 66000, less the nights); default the survey's (ztf 58650, lsst 61000), or when the weather closes every night from there, the first night after it that it leaves open for the seed." };
        start.Validators.Add(result =>
        {
            // A night is a whole MJD: 58650.7 was taken as 58650 without a word (NaN and values outside the window are
            // said by the window check, naming the window).
            if (CliHelpers.TryGetValue(result, out double? value) && value is { } v && double.IsFinite(v) && v != Math.Floor(v))
            {
                result.AddError(string.Create(CultureInfo.InvariantCulture, $"--start-mjd is a night: a whole MJD such as {Math.Floor(v)}, not {v}."));
            }
        });
        var framing = new Option<string>("--framing") { Description = "container (an Avro container file per message, as ZTF) or confluent (Confluent wire with a schema id, as Rubin's Kafka stream; schema in OUT/schemas/).", DefaultValueFactory = _ => "container" };
        var schemaId = new Option<int?>("--schema-id") { Description = $"Schema id for --framing confluent (a registry id: 1 or more; default {AlertStreamWriter.ZtfDefaultSchemaId} for ztf, {AlertStreamWriter.LsstDefaultSchemaId} for lsst)." }.InRange(1, int.MaxValue);
        var labels = new Option<string?>("--labels") { Description = "Also write each object's truth (object_id,class,redshift,mwebv; the alerts' object ids) to this CSV, for 'evaluate --data OUT --labels FILE'." }.OutputFile();
        var codec = new Option<string>("--codec") { Description = "Avro container codec of the files written: null (default, as ZTF), deflate, snappy, zstandard or bzip2 (replay and run read these and xz).", DefaultValueFactory = _ => "null" };
        codec.AcceptOnlyFromAmong([.. AlertBroker.Avro.AvroContainerWriter.Codecs]);
        var classes = new Option<string?>("--classes") { Description = "Comma-separated classes of the stream, in their natural mix (default every class: SNIa,SNII,SNIbc,SLSN-I,TDE,SNIIn)." };
        var replace = new Option<bool>("--replace") { Description = "--out holds an earlier alert stream: remove it (its night folders, nightly archives and schemas/) before writing this one, instead of refusing." };
        var command = new Command("alerts", "Simulate a time-ordered alert stream in the survey's format (ZTF or Rubin Avro, with history and cutouts).")
        {
            survey, nights, output, seed, format, rate, noCutouts, start, framing, schemaId, labels, codec, classes, replace,
        };
        command.Validators.Add(result =>
        {
            // One path for both was opened twice: exit 1 ("being used by another process", or "already exists" for a
            // folder of nights), with an empty file left behind.
            if (result.GetValue(labels) is { } labelsPath && result.GetValue(output) is { } outPath && SamePath(labelsPath, outPath))
            {
                result.AddError($"--labels {labelsPath} is also --out: the labels are a CSV of their own; give another path");
            }

            // Container framing carries no schema id: --schema-id was ignored without a word.
            if (result.GetResult(schemaId) is { Implicit: false } && !string.Equals(result.GetValue(framing), "confluent", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError("--schema-id is the schema id of --framing confluent; container framing (the default) carries none");
            }

            // A container (--format avro) is replaced whole by every run: there is no earlier stream to remove beside it.
            if (result.GetValue(replace) && string.Equals(result.GetValue(format), "avro", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError("--replace removes an earlier stream from a folder of nights (--format files or tar); --format avro replaces its container file whole");
            }

            // A Confluent-framed message is a bare datum: there is no container to compress.
            if (result.GetResult(codec) is { Implicit: false } && string.Equals(result.GetValue(framing), "confluent", StringComparison.OrdinalIgnoreCase))
            {
                result.AddError("--codec is the codec of Avro container files; --framing confluent writes bare datums, which have none");
            }

            // An existing path of the other kind was found only when writing began: exit 1, "Access to the path … is
            // denied" (a directory for --format avro) or "The file … already exists" (a file for a folder of nights).
            if (result.GetValue(output) is { Length: > 0 } place)
            {
                var oneFile = string.Equals(result.GetValue(format), "avro", StringComparison.OrdinalIgnoreCase);
                if (oneFile && Directory.Exists(place))
                {
                    result.AddError($"{place} is a directory; --out with --format avro takes a file to write");
                }
                else if (oneFile && Path.EndsInDirectorySeparator(place))
                {
                    // It made the folder, then failed "Access to the path … is denied" and left the folder behind.
                    result.AddError($"{place} ends in '{place[^1]}', a directory; --out with --format avro takes a file to write, such as {Path.Combine(place, "alerts.avro")}");
                }
                else if (!oneFile && File.Exists(place))
                {
                    result.AddError($"{place} is a file; --out takes a directory to write (or a .avro file with --format avro)");
                }
                else if (!oneFile && !result.GetValue(replace) && EarlierStream(place) is { Count: > 0 } earlier)
                {
                    // A second stream was written among the first (seed 1, then seed 2: one folder of two streams, which
                    // replay and evaluate read as one, and --labels covering only the second).
                    result.AddError(string.Create(CultureInfo.InvariantCulture, $"{place} already holds an alert stream ({Describe(earlier)}); this one would be mixed into it: give a new or empty folder, or --replace to remove that stream first"));
                }
            }
        });
        command.SetAction((parse, ct) => Task.FromResult(Guard("simulate alerts", () =>
        {
            var model = SurveyModel.ByName(parse.GetValue(survey)!);
            var layout = parse.GetValue(format)!.ToUpperInvariant() switch
            {
                "FILES" => AlertOutputLayout.Files,
                "TAR" => AlertOutputLayout.NightlyTar,
                "AVRO" => AlertOutputLayout.SingleFile,
                _ => throw new ArgumentException($"unknown --format '{parse.GetValue(format)}' (expected files, tar or avro)"),
            };
            var options = new AlertStreamOptions
            {
                Simulation = BuildOptions(model, parse.GetValue(seed), "natural", parse.GetValue(classes), TransientClasses.All) with { MinDetections = 1 },
                Nights = Math.Max(1, parse.GetValue(nights)),
                ObjectsPerNight = parse.GetValue(rate),
                StartMjd = parse.GetValue(start),
            };
            var messageFraming = parse.GetValue(framing)!.ToUpperInvariant() switch
            {
                "CONTAINER" => AlertFraming.Container,
                "CONFLUENT" => AlertFraming.ConfluentWire,
                _ => throw new ArgumentException($"unknown --framing '{parse.GetValue(framing)}' (expected container or confluent)"),
            };
            return RunAlerts(options, parse.GetValue(output)!, layout, !parse.GetValue(noCutouts), messageFraming, parse.GetValue(schemaId), ct, parse.GetValue(labels), parse.GetValue(codec)!, parse.GetValue(replace));
        })));
        return command;
    }

    /// <summary>
    /// <c>--objects-per-night</c> of <c>simulate alerts</c> and <c>demo</c>: <see cref="AlertStreamSimulator.MinObjectsPerNight"/>
    /// to <see cref="AlertStreamSimulator.MaxObjectsPerNight"/>, NaN and infinities refused (exit 2, naming the option).
    /// </summary>
    internal static Option<double> ObjectsPerNightOption(string description, double defaultValue) =>
        new Option<double>("--objects-per-night") { Description = description, DefaultValueFactory = _ => defaultValue }
            .InRange(AlertStreamSimulator.MinObjectsPerNight, AlertStreamSimulator.MaxObjectsPerNight);

    // What an alert stream written into `directory` before left there: night folders of alert files (yyyymmdd/*.avro) and
    // nightly archives (SURVEY_public_yyyymmdd.tar.gz); empty when there is none (or no such folder).
    internal static List<string> EarlierStream(string directory)
    {
        var found = new List<string>();
        if (!Directory.Exists(directory))
        {
            return found;
        }

        try
        {
            foreach (var folder in Directory.EnumerateDirectories(directory))
            {
                if (IsNightName(Path.GetFileName(folder)) && Directory.EnumerateFiles(folder, "*.avro").Any())
                {
                    found.Add(folder);
                }
            }

            foreach (var file in Directory.EnumerateFiles(directory, "*_public_*.tar.gz"))
            {
                var name = Path.GetFileName(file);
                if (IsNightName(name[(name.LastIndexOf('_') + 1)..^".tar.gz".Length]))
                {
                    found.Add(file);
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable: the write says what is wrong with it.
        }

        found.Sort(StringComparer.Ordinal);
        return found;

        static bool IsNightName(string name) => name.Length == 8 && name.All(char.IsAsciiDigit);
    }

    private static string Describe(List<string> earlier)
    {
        var folders = earlier.Count(Directory.Exists);
        var archives = earlier.Count - folders;
        var parts = new List<string>();
        if (folders > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{folders} night folder{(folders == 1 ? string.Empty : "s")} of alert files"));
        }

        if (archives > 0)
        {
            parts.Add(string.Create(CultureInfo.InvariantCulture, $"{archives} nightly archive{(archives == 1 ? string.Empty : "s")}"));
        }

        return $"{string.Join(" and ", parts)}, the first {Path.GetFileName(earlier[0])}";
    }

    // --replace: the earlier stream's alert files, archives and schema files go; anything else in the folder stays.
    private static void RemoveEarlierStream(string directory)
    {
        foreach (var entry in EarlierStream(directory))
        {
            if (Directory.Exists(entry))
            {
                foreach (var file in Directory.EnumerateFiles(entry, "*.avro"))
                {
                    File.Delete(file);
                }

                if (!Directory.EnumerateFileSystemEntries(entry).Any())
                {
                    Directory.Delete(entry);
                }
            }
            else
            {
                File.Delete(entry);
            }
        }

        var schemas = Path.Combine(directory, "schemas");
        if (Directory.Exists(schemas))
        {
            foreach (var file in Directory.EnumerateFiles(schemas, "*.avsc"))
            {
                File.Delete(file);
            }

            if (!Directory.EnumerateFileSystemEntries(schemas).Any())
            {
                Directory.Delete(schemas);
            }
        }
    }

    private static bool SamePath(string a, string b)
    {
        try
        {
            return !string.IsNullOrWhiteSpace(a) && !string.IsNullOrWhiteSpace(b)
                && string.Equals(Path.TrimEndingDirectorySeparator(Path.GetFullPath(a)), Path.TrimEndingDirectorySeparator(Path.GetFullPath(b)), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return false;
        }
    }

    private static Command Compare()
    {
        var real = new Option<string?>("--real") { Description = "Real labelled set: the directory of its CSV pair (default ../shared/labelled/ztf-bts)." }.MustExist(PathKind.Directory);
        var sim = new Option<string?>("--sim") { Description = "A simulated set written by 'simulate lightcurves': the directory of its CSV pair (default: simulate --n ZTF light curves with the BTS-like selection)." }.MustExist(PathKind.Directory);
        var n = new Option<long>("--n") { Description = "Light curves to simulate when --sim is not given (at most 1000000).", DefaultValueFactory = _ => 20_000 }.InRange(1L, 1_000_000L);
        var seed = SeedOption();
        var output = new Option<string>("--out") { Description = "Report directory (report.md and SVG histograms).", DefaultValueFactory = _ => "simulation-compare" }.OutputDirectory();
        var exclude = ExcludeIdsOption();
        var command = new Command("compare", "Compare simulated ZTF light curves (after a BTS-like selection) with real BTS light curves, class by class: peak magnitude, detections, rise and decline times, g−r near peak, redshift.")
        {
            real, sim, n, seed, output, exclude,
        };
        command.SetAction((parse, ct) => Task.FromResult(Files("simulate compare", () => RunCompare(parse.GetValue(real), parse.GetValue(sim), parse.GetValue(n), parse.GetValue(seed), parse.GetValue(output)!, parse.GetValue(exclude), ct))));
        return command;
    }

    private static Option<string?> ExcludeIdsOption() => new Option<string?>("--exclude-ids")
    {
        Description = "Object ids to leave out of the real set (the held-out test part, e.g. data/splits/ztf-bts-test-ids.txt): compare with the tuning part only.",
    }.MustExist(PathKind.File).HoldingIds();

    private static Command Tune()
    {
        var real = new Option<string?>("--real") { Description = "Real labelled set: the directory of its CSV pair (default ../shared/labelled/ztf-bts)." }.MustExist(PathKind.Directory);
        var exclude = ExcludeIdsOption();
        exclude.Required = true;
        // Bounded as compare's --n (2147483647 per class was an out-of-memory "unexpected error"; 300000000 ran for hours).
        var perClass = new Option<int>("--per-class") { Description = "Simulated light curves per class and evaluation (at most 100000).", DefaultValueFactory = _ => 1500 }.InRange(1, 100_000);
        var rounds = new Option<int>("--rounds") { Description = "Coordinate-descent rounds at most (1 to 1000).", DefaultValueFactory = _ => 8 }.InRange(1, 1000);
        var seed = SeedOption();
        var output = new Option<string>("--out") { Description = "Directory for tuning.md, tuning-steps.csv and tuned-parameters.json.", DefaultValueFactory = _ => "simulation-tuning" }.OutputDirectory();
        var riseShape = new Option<bool>("--rise-shape") { Description = "Also tune every class's rise shape ν (a Richards rise; prior 1, Bazin's curve, σ 0.3 dex). Simulate with the result by 'simulate lightcurves --parameters OUT/tuned-parameters.json'." };
        var start = new Option<string?>("--start") { Description = "Start from a tuned-parameters.json (or the directory) of an earlier run instead of the priors (the prior penalty is still measured from the literature priors)." }.MustExist(PathKind.FileOrDirectory);
        var command = new Command("tune", "Tune the ZTF simulator's class parameters and cadence against the tuning part of the real BTS set (the test ids left out), starting from literature priors; records every step (docs/simulation.md).")
        {
            real, exclude, perClass, rounds, seed, output, riseShape, start,
        };
        command.SetAction((parse, ct) => Task.FromResult(Files("simulate tune", () => RunTune(parse.GetValue(real), parse.GetValue(exclude)!, parse.GetValue(perClass), parse.GetValue(rounds), parse.GetValue(seed), parse.GetValue(output)!, ct, parse.GetValue(riseShape), parse.GetValue(start)))));
        return command;
    }

    internal static int RunTune(string? realPath, string excludeIds, int perClass, int rounds, long seed, string output, CancellationToken cancellationToken, bool riseShape = false, string? startFile = null)
    {
        var startFrom = startFile is null ? null : TunedParameters.Read(startFile);
        var real = ReadReal("simulate tune", realPath, excludeIds, out var description, out var failure);
        if (real is null)
        {
            return failure;
        }

        if (NothingLeft(real, excludeIds) is { } refused)
        {
            return refused;
        }

        var console = CliHelpers.Stderr;
        var clock = Stopwatch.StartNew();
        var tunable = riseShape ? [.. LiteraturePriors.Tunable, .. LiteraturePriors.RiseShapes] : LiteraturePriors.Tunable;
        var tuning = new TuningOptions { Real = real, PerClass = perClass, Rounds = rounds, Seed = seed, Parameters = tunable };
        if (startFrom is not null)
        {
            tuning = tuning with { Classes = startFrom.Apply(tuning.Classes), Survey = startFrom.Apply(tuning.Survey) };
        }

        var tuner = new SimulatorTuner(tuning);
        var invocation = $"alertbroker simulate tune --exclude-ids {excludeIds} --per-class {perClass} --rounds {rounds} --seed {seed}{(riseShape ? " --rise-shape" : string.Empty)}{(startFile is null ? string.Empty : " --start " + startFile)}";
        var result = tuner.Run(line => console.WriteLine(line), cancellationToken);

        // The same comparison with the simulator's current defaults, for the record.
        var reference = new List<LightCurveFeatures>();
        for (var c = 0; c < TransientClasses.RealSetClasses.Count; c++)
        {
            var options = new SimulationOptions { Survey = ZtfSurvey.Model, Seed = seed + (1000 * c), Classes = [TransientClasses.RealSetClasses[c]], Selection = SpectroscopicSelection.Bts };
            reference.AddRange(new LightCurveSimulator(options).Simulate(perClass, 0, cancellationToken).Select(LightCurveFeatures.From));
        }

        var classes = TransientClasses.RealSetClasses.Select(c => c.Name).ToList();
        var referenceReport = new ComparisonReport(real, reference, classes);
        var defaultsObjective = classes.Select((c, i) => tuner.DataTerm(c, reference.Where(f => f.ClassName == c).ToList())).Sum();
        var inv = CultureInfo.InvariantCulture;
        var preamble = string.Create(inv, $"Written by `{invocation}` in {clock.Elapsed.TotalMinutes:0.0} min. Real set: {description}. Simulated: {perClass} ZTF light curves per class and evaluation, BTS-like selection, seed {seed} (+1000 per class). \"current defaults\": the simulator's built-in parameters when the command ran (data term Σ √n·KS {defaultsObjective:0.000}; no prior penalty applies to them).");
        var path = SimulatorTuner.WriteReport(result, output, preamble, referenceReport, "current defaults", startFrom is null ? "priors" : "start");
        var json = new System.Text.Json.Nodes.JsonObject
        {
            ["command"] = invocation,
            ["real"] = description,
            ["objectiveBefore"] = Math.Round(result.ObjectiveBefore, 6),
            ["objectiveAfter"] = Math.Round(result.ObjectiveAfter, 6),
            ["survey"] = new System.Text.Json.Nodes.JsonObject
            {
                ["fieldNightProbability"] = Math.Round(result.Survey.FieldNightProbability, 6),
                ["limitingMagOffset"] = Math.Round(result.Survey.LimitingMagOffset, 6),
            },
            ["classes"] = System.Text.Json.JsonSerializer.SerializeToNode(result.Classes, s_json),
        };
        File.WriteAllText(Path.Combine(output, "tuned-parameters.json"), json.ToJsonString(s_json) + "\n");
        console.MarkupLine(Markup.Escape($"report: {path}; parameters: {Path.Combine(output, "tuned-parameters.json")}"));
        return 0;
    }

    private static readonly System.Text.Json.JsonSerializerOptions s_json = new() { WriteIndented = true, PropertyNamingPolicy = System.Text.Json.JsonNamingPolicy.CamelCase };

    // With every real object excluded, tune wrote tuned-parameters.json from "objective 0.000 → 0.000" and compare a table of NaNs.
    private static int? NothingLeft(List<LightCurveFeatures> real, string? excludeIds)
    {
        if (real.Count > 0)
        {
            return null;
        }

        CliHelpers.Stderr.MarkupLine(excludeIds is null
            ? "[red]the real set has no object to compare with[/]"
            : $"[red]no real object is left: --exclude-ids {Markup.Escape(excludeIds)} lists every object of the real set[/]");
        return 2;
    }

    // What the reader left out of a set (rows, objects) or read as unknown, one yellow line, as train says it.
    private static void Note(string line) => CliHelpers.Stderr.MarkupLine($"[yellow]{Markup.Escape(line)}[/]");

    // The real light curves' features, without the excluded ids; null (after a message) when they cannot be read (failure 1)
    // or the ids exclude none of them (failure 2).
    private static List<LightCurveFeatures>? ReadReal(string command, string? realPath, string? excludeIds, out string description, out int failure)
    {
        description = string.Empty;
        failure = 1;
        realPath ??= CliHelpers.FindSharedDirectory() is { } shared ? Path.Combine(shared, "labelled", "ztf-bts") : null;
        if (realPath is null || !Directory.Exists(realPath))
        {
            CliHelpers.Stderr.MarkupLine("[red]no real set: pass --real DIR (e.g. ../shared/labelled/ztf-bts)[/]");
            return null;
        }

        AlertBroker.Training.Data.HoldoutIds? holdout = null;
        if (excludeIds is not null)
        {
            try
            {
                holdout = AlertBroker.Training.Data.HoldoutIds.Read(excludeIds);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
            {
                CliHelpers.Stderr.MarkupLine($"[red]cannot read {Markup.Escape(excludeIds)}:[/] {Markup.Escape(e.Message)}");
                return null;
            }
        }

        var real = new List<LightCurveFeatures>();
        var all = 0;
        foreach (var curve in LabelledLightCurves.Read(realPath, "--real", Note))
        {
            all++;
            if (holdout is null || !holdout.Contains(curve.ObjectId))
            {
                real.Add(LightCurveFeatures.From(curve));
            }
        }

        if (holdout is not null && holdout.Count > 0 && all - real.Count < holdout.Count)
        {
            // A list made for another set excluded nothing, and the report said "without the 0 ids": for tune, the test
            // part the list was to keep out was used for tuning. None found is refused; some not found are said.
            var excluded = all - real.Count;
            if (excluded == 0)
            {
                failure = UsageError(command, string.Create(CultureInfo.InvariantCulture, $"none of the {holdout.Count} ids in --exclude-ids {excludeIds} is an object of {realPath}: nothing would be left out (a list for another set?)"));
                return null;
            }

            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"warning: {holdout.Count - excluded} of the {holdout.Count} ids in --exclude-ids {excludeIds} are not objects of {realPath}; {excluded} left out")));
        }

        var shown = Path.IsPathRooted(realPath) ? Path.GetRelativePath(Environment.CurrentDirectory, realPath) : realPath;
        realPath = shown;
        description = holdout is null
            ? string.Create(CultureInfo.InvariantCulture, $"`{realPath}` ({real.Count} objects)")
            : string.Create(CultureInfo.InvariantCulture, $"`{realPath}` without the {all - real.Count} ids in `{excludeIds}` (sha256 {holdout.Sha256[..12]}…): {real.Count} objects");
        return real;
    }

    internal static SimulationOptions BuildOptions(SurveyModel survey, long seed, string mix, string? classList, IReadOnlyList<TransientClassModel>? defaultClasses = null)
    {
        var classes = defaultClasses ?? TransientClasses.RealSetClasses;
        if (classList is not null)
        {
            // An empty --classes was read as the defaults, and a class named twice simulated it twice as often.
            if (string.IsNullOrWhiteSpace(classList))
            {
                throw new ArgumentException("--classes is empty: name at least one class, or leave the option out for the defaults");
            }

            var list = new List<TransientClassModel>();
            foreach (var name in classList.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            {
                var model = TransientClasses.ByName(name);
                if (list.Contains(model))
                {
                    throw new ArgumentException($"--classes names {model.Name} twice");
                }

                list.Add(model);
            }

            classes = list;
        }

        var options = new SimulationOptions { Survey = survey, Seed = seed, Classes = classes };
        if (mix.Equals("equal", StringComparison.OrdinalIgnoreCase))
        {
            return options with { ClassMix = ClassMixKind.Equal };
        }

        if (mix.Equals("natural", StringComparison.OrdinalIgnoreCase))
        {
            return options with { ClassMix = ClassMixKind.Natural };
        }

        // Explicit weights: every class named gets its weight, the rest 0.
        var weights = new double[classes.Count];
        var given = new HashSet<int>();
        foreach (var part in mix.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var kv = part.Split('=');
            if (kv.Length != 2 || !double.TryParse(kv[1], NumberStyles.Float, CultureInfo.InvariantCulture, out var w))
            {
                throw new ArgumentException($"cannot read class weight '{part}' (expected NAME=WEIGHT)");
            }

            var found = false;
            for (var i = 0; i < classes.Count; i++)
            {
                if (classes[i].Name.Equals(kv[0], StringComparison.OrdinalIgnoreCase))
                {
                    if (given.Contains(i))
                    {
                        // The later weight was used without a word.
                        throw new ArgumentException($"class '{kv[0]}' is given twice in --mix");
                    }

                    given.Add(i);
                    weights[i] = w;
                    found = true;
                }
            }

            if (!found)
            {
                throw new ArgumentException($"class '{kv[0]}' in --mix is not among the simulated classes");
            }
        }

        return options with { ClassMix = ClassMixKind.Explicit, ClassFractions = weights };
    }

    // An output that cannot be written (a missing parent, no permission, a full disk) is one line and exit 1.
    // compare and tune read sets and write reports: a set that is missing or unreadable, or a report that cannot be
    // written, is one line and exit 1.
    private static int Files(string command, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or InvalidDataException or FormatException or UnauthorizedAccessException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{command}:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
    }

    private static int Guard(string command, Func<int> action)
    {
        try
        {
            return action();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            CliHelpers.Stderr.MarkupLine($"[red]{command}: cannot write the output:[/] {Markup.Escape(e.Message)}");
            return 1;
        }
        catch (SimulationSelectionException e)
        {
            // Settings under which no object of a class can be made (e.g. almost every epoch dropped): one line, exit 2.
            return UsageError(command, e.Message);
        }
        catch (ArgumentException e)
        {
            // A bad setting (--mix, --classes, --format, --framing, --survey, a value out of range): one line, usage exit code.
            // The library's ArgumentException names its parameter ("(Parameter 'options')"): not the user's concern.
            return UsageError(command, CliHelpers.PlainMessage(e));
        }
    }

    // In the words of every usage error the parser finds (AlertBrokerCommand): "alertbroker CMD: why" and where the options
    // are; these settings are checked when the command runs, and said "CMD: why" alone.
    private static int UsageError(string command, string why)
    {
        CliHelpers.Stderr.MarkupLine($"[red]alertbroker {Markup.Escape(command)}:[/] {Markup.Escape(why)}");
        CliHelpers.Stderr.MarkupLine(Markup.Escape($"(the options: alertbroker {command} --help)"));
        return 2;
    }

    /// <summary>
    /// Bytes per simulated light curve, both files: measured 1.03 kB (ZTF) and 1.10 kB (LSST) a light curve, 1.48 and
    /// 2.45 kB with --bts (a brightness-selected object has more epochs).
    /// </summary>
    internal const double LightCurveBytes = 1300, SelectedLightCurveBytes = 2600;

    /// <summary>Alerts per object a night brings (measured 9–10 over ten nights) and bytes per alert (ZTF 63 kB, Rubin 124 kB with cutouts; 6 kB without).</summary>
    internal const double AlertsPerObjectNight = 10, ZtfAlertBytes = 65_000, RubinAlertBytes = 130_000, AlertBytesWithoutCutouts = 6_000;

    internal static int RunLightCurves(SimulationOptions options, long count, string output, string prefix, CancellationToken cancellationToken)
    {
        if (OutputSpace.Shortfall(output, count * (options.Selection is null ? LightCurveBytes : SelectedLightCurveBytes)) is { } shortfall)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"simulate lightcurves: --n {count} {shortfall}; nothing written (ask for fewer, or write elsewhere with --out)")));
            return 1;
        }

        var simulator = new LightCurveSimulator(options);
        var watch = Stopwatch.StartNew();
        try
        {
            return WriteLightCurves(simulator, count, output, prefix, watch, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Returned, not thrown: the command line waits for a result, and the partial files are gone by now.
            CliHelpers.Stderr.MarkupLine("[yellow]simulate lightcurves: stopped; nothing written (the partial files were removed)[/]");
            return 130;
        }
    }

    private static int WriteLightCurves(LightCurveSimulator simulator, long count, string output, string prefix, Stopwatch watch, CancellationToken cancellationToken)
    {
        using (var writer = new LabelledCsvWriter(output, prefix))
        {
            foreach (var curve in simulator.Simulate(count, 0, cancellationToken))
            {
                writer.Write(curve);
            }

            writer.Complete();
            watch.Stop();
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(
                CultureInfo.InvariantCulture,
                $"{writer.ObjectsWritten} light curves ({writer.RowsWritten} epochs) in {watch.Elapsed.TotalSeconds:0.00} s: {writer.ObjectsWritten / watch.Elapsed.TotalSeconds:0} light curves/s")));
            Console.WriteLine(writer.LightCurvesPath);
            Console.WriteLine(writer.MetadataPath);
        }

        return 0;
    }

    internal static int RunAlerts(AlertStreamOptions options, string output, AlertOutputLayout layout, bool cutouts, AlertFraming framing, int? schemaId, CancellationToken cancellationToken, string? labelsPath = null, string codec = "null", bool replace = false)
    {
        // The nights are checked against the decoder's window before the disk: 100000000 nights were "would write about
        // 1300 TB", exit 1, where the nights themselves cannot be (exit 2).
        var stream = new AlertStreamSimulator(options);
        var estimate = options.Nights * options.ObjectsPerNight * AlertsPerObjectNight * (!cutouts ? AlertBytesWithoutCutouts : options.Simulation.Survey.Name == ZtfSurvey.Model.Name ? ZtfAlertBytes : RubinAlertBytes);
        if (OutputSpace.Shortfall(output, estimate) is { } shortfall)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"simulate alerts: {options.Nights} night(s) of {options.ObjectsPerNight} object(s) {shortfall}; nothing written (fewer --nights or --objects-per-night, --no-cutouts, or another --out)")));
            return 1;
        }

        if (!CliHelpers.CanWriteFileIn(labelsPath))
        {
            return 1;
        }

        if (replace && layout != AlertOutputLayout.SingleFile)
        {
            RemoveEarlierStream(output);
        }

        var watch = Stopwatch.StartNew();
        AlertStreamSummary summary;

        // The labels under a hidden name until the run has alerts (a run without one left a header-only labels file,
        // over an earlier one); a labels path that is not a regular file (/dev/stdout) is written straight.
        var stopped = false;
        using (var labelsFile = labelsPath is null ? null : PartialFile.Begin(labelsPath))
        {
            using (var labels = labelsFile is null ? null : new StreamWriter(labelsFile.WritePath))
            using (var writer = new AlertStreamWriter(options.Simulation.Survey, output, layout, options.Simulation.Seed, cutouts, framing, schemaId, codec) { Labels = labels })
            {
                if (labelsFile is { IsStaged: false })
                {
                    try
                    {
                        // A labels path written straight (a device): its header out now, so that one that takes nothing
                        // (/dev/full) fails before the stream is written, not after every alert file was.
                        labels!.Flush();
                    }
                    catch (IOException)
                    {
                        writer.Discard();
                        throw;
                    }
                }

                try
                {
                    summary = writer.WriteStream(
                        stream,
                        (night, alerts) => CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"night {night:0}: {alerts} alerts"))),
                        cancellationToken);
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                    // Stopped between two alerts: disposing the writer (below) closes the night's archive (or the
                    // container) after its last whole alert, so everything in OUT reads.
                    summary = writer.Summary;
                    stopped = true;
                }

                if (summary.Alerts == 0)
                {
                    // Nothing to keep: what the run would have written is removed, and what --out held stays as it was.
                    writer.Discard();
                }
            }

            if (summary.Alerts > 0)
            {
                labelsFile?.Commit();
            }
        }

        if (stopped)
        {
            // Say how far it got (it ended without a word, or was cut mid-archive by the grace period when a night took
            // longer than that).
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(
                CultureInfo.InvariantCulture,
                $"simulate alerts: stopped after {summary.Alerts} alert(s) from {summary.Objects} object(s) in {summary.Nights} night(s); what was written is whole (the last night holds the alerts up to the stop)")));
            if (summary.Alerts > 0)
            {
                Console.WriteLine(output);
            }

            return 130;
        }

        watch.Stop();
        CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(
            CultureInfo.InvariantCulture,
            $"{CliHelpers.Counted(summary.Alerts, "alert")} from {CliHelpers.Counted(summary.Objects, "object")} over {CliHelpers.Counted(summary.Nights, "night")}, {summary.Bytes / 1e6:0.0} MB ({(summary.Alerts > 0 ? summary.Bytes / summary.Alerts / 1024.0 : 0):0.0} KB/alert) in {watch.Elapsed.TotalSeconds:0.00} s: {summary.Alerts / watch.Elapsed.TotalSeconds:0} alerts/s")));
        if (summary.Alerts > 0)
        {
            Console.WriteLine(output);
        }

        if (summary.Alerts == 0)
        {
            // `simulate alerts --survey lsst` with the defaults (one night, MJD 61000, clouded out for the default seed)
            // wrote nothing and ended 0: a stream sample without a single alert. With a night open, the weather is not
            // the cause: at a low rate no object was detected in the nights (it said "nothing was observed … weather").
            var clear = stream.ClearNights;
            CliHelpers.Stderr.MarkupLine(Markup.Escape(clear == 0
                ? string.Create(
                    CultureInfo.InvariantCulture,
                    $"simulate alerts: no alert in {summary.Nights} night(s): nothing was observed (the simulated weather closes about a quarter of the nights, and a night outside the survey's season has no visits), and nothing was written; give more --nights, another --start-mjd or --seed")
                : string.Create(
                    CultureInfo.InvariantCulture,
                    $"simulate alerts: no alert in {summary.Nights} night(s): the weather left {clear} of them open, but at {options.ObjectsPerNight:G} transient(s) peaking per night no object was detected in them (an object is seen on some nights of its season only), and nothing was written; give a higher --objects-per-night or more --nights")));
            return 1;
        }

        return 0;
    }

    internal static int RunCompare(string? realPath, string? simPath, long count, long seed, string output, string? excludeIds, CancellationToken cancellationToken)
    {
        var real = ReadReal("simulate compare", realPath, excludeIds, out var realDescription, out var failure);
        if (real is null)
        {
            return failure;
        }

        if (NothingLeft(real, excludeIds) is { } refused)
        {
            return refused;
        }

        var simulated = new List<LightCurveFeatures>();
        string source;
        if (simPath is not null)
        {
            foreach (var curve in LabelledLightCurves.Read(simPath, "--sim", Note))
            {
                simulated.Add(LightCurveFeatures.From(curve));
            }

            source = $"Simulated set: `{simPath}`.";
        }
        else
        {
            var options = new SimulationOptions
            {
                Survey = ZtfSurvey.Model,
                Seed = seed,
                ClassMix = ClassMixKind.Equal,
                Selection = SpectroscopicSelection.Bts,
            };
            foreach (var curve in new LightCurveSimulator(options).Simulate(count, 0, cancellationToken))
            {
                simulated.Add(LightCurveFeatures.From(curve));
            }

            var natural = new LightCurveSimulator(options with { ClassMix = ClassMixKind.Natural }).ClassFractions;
            var fractions = string.Join(", ", TransientClasses.RealSetClasses.Select((c, i) => string.Create(CultureInfo.InvariantCulture, $"{c.Name} {natural[i]:0.###}")));
            source = string.Create(
                CultureInfo.InvariantCulture,
                $"Simulated: {count} ZTF light curves, equal class mix, BTS-like selection (complete to 18.5 mag, 35% at 19.0), seed {seed} (`alertbroker simulate compare --n {count} --seed {seed}`).\n\nNatural class fractions the simulator predicts for a flux-limited sample at this depth (before the soft 18.5–19 completeness): {fractions}.");
        }

        // Only classes with light curves on both sides can be compared: a class the simulated set lacks (--n 1, a --sim
        // made with --classes SNIa) printed and wrote rows of NaN, exit 0.
        var classes = TransientClasses.RealSetClasses.Select(c => c.Name).ToList();
        var compared = classes.Where(c => real.Any(f => f.ClassName == c) && simulated.Any(f => f.ClassName == c)).ToList();
        var leftOut = classes.Except(compared).Select(c => $"{c} ({(real.Any(f => f.ClassName == c) ? "no simulated" : simulated.Any(f => f.ClassName == c) ? "no real" : "no real or simulated")} light curve)").ToList();
        if (compared.Count == 0)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"no class has both real and simulated light curves ({simulated.Count} simulated{(simPath is null ? "; give a larger --n" : $" in {simPath}")}): {string.Join(", ", leftOut)}")));
            return simPath is null ? 2 : 1;
        }

        if (leftOut.Count > 0)
        {
            CliHelpers.Stderr.MarkupLine(Markup.Escape($"left out of the comparison: {string.Join(", ", leftOut)}"));
            source += $"\n\nLeft out of the comparison: {string.Join(", ", leftOut)}.";
        }

        var report = new ComparisonReport(real, simulated, compared);
        var path = report.Write(output, $"Real set: {realDescription}. {source}");
        foreach (var row in report.Rows)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{row.ClassName,-7} {row.Quantity,-18} real {ComparisonReport.Cell(row.RealMedian, "0.###"),8} sim {ComparisonReport.Cell(row.SimulatedMedian, "0.###"),8}  KS {ComparisonReport.Cell(row.KsDistance, "0.000")}"));
        }

        CliHelpers.Stderr.MarkupLine(Markup.Escape("report: " + path));
        return 0;
    }
}
