using System.CommandLine;
using AlertBroker.Alerts;
using AlertBroker.Avro;
using AlertBroker.Redis;
using AlertBroker.Training.Data;
using AlertBroker.Worker.Hosting;
using AlertBroker.Worker.Kafka;
using AlertBroker.Worker.Schemas;
using Microsoft.Extensions.Configuration;
using Spectre.Console;

namespace AlertBroker.Cli;

/// <summary>Options and helpers several commands share.</summary>
internal static class CliHelpers
{
    public static Option<string?> SchemaRegistryOption()
    {
        var option = new Option<string?>("--schema-registry")
        {
            Description = "Schema registry URL for Confluent-wire messages (basic auth from AlertBroker__Schemas__RegistryUsername / RegistryPassword).",
        };
        option.Validators.Add(result =>
        {
            var url = result.GetValueOrDefault<string?>();
            if (url is not null && !SchemaRegistryClients.IsValidUrl(url))
            {
                result.AddError("--schema-registry must be an absolute http:// or https:// URL (several separated by commas).");
            }
            else if (SchemaRegistryClients.HasUserInfo(url))
            {
                // The URL is printed in the registry client's errors: its password was in the exit message.
                result.AddError(SchemaRegistryClients.UserInfoProblem("--schema-registry"));
            }
        });
        return option;
    }

    /// <summary>
    /// Refuses (a parse error: one line naming the option, exit 2) a value below <paramref name="minimum"/>, or at or
    /// below it when <paramref name="exclusive"/>; NaN is always refused. Returns the option, for use in initialisers.
    /// </summary>
    public static Option<T> AtLeast<T>(this Option<T> option, T minimum, bool exclusive = false)
        where T : struct, System.Numerics.INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (!TryGetValue(result, out T value))
            {
                return;
            }

            if (T.IsNaN(value) || value < minimum || (exclusive && value == minimum))
            {
                result.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be {(exclusive ? "above" : "at least")} {minimum}, not {value}."));
            }
        });
        return option;
    }

    /// <summary>As <see cref="AtLeast{T}(Option{T}, T, bool)"/> for an option without a default (checked when given).</summary>
    public static Option<T?> AtLeast<T>(this Option<T?> option, T minimum)
        where T : struct, System.Numerics.INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (TryGetValue(result, out T? given) && given is { } value && (T.IsNaN(value) || value < minimum))
            {
                result.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be at least {minimum}, not {value}."));
            }
        });
        return option;
    }

    /// <summary>
    /// Refuses (a parse error naming the option, exit 2) a value outside [<paramref name="minimum"/>, <paramref name="maximum"/>];
    /// NaN and infinities are always refused. Checked only when the option is given.
    /// </summary>
    public static Option<T> InRange<T>(this Option<T> option, T minimum, T maximum)
        where T : struct, System.Numerics.INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (!result.Implicit && TryGetValue(result, out T value) && OutOfRange(value, minimum, maximum))
            {
                result.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be in [{minimum}, {maximum}], not {value}."));
            }
        });
        return option;
    }

    /// <summary>
    /// Refuses (one parse error naming the option, exit 2) a value outside (<paramref name="minimum"/>, <paramref name="maximum"/>]:
    /// above the minimum, at most the maximum; NaN and infinities always. <c>AtLeast(0, exclusive: true).InRange(0, max)</c>
    /// said two things of -1, "must be above 0" and "must be in [0, max]", the second as if 0 were allowed.
    /// </summary>
    public static Option<T> AboveAndAtMost<T>(this Option<T> option, T minimum, T maximum)
        where T : struct, System.Numerics.INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (TryGetValue(result, out T value) && (OutOfRange(value, minimum, maximum) || value == minimum))
            {
                result.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be above {minimum} and at most {maximum}, not {value}."));
            }
        });
        return option;
    }

    /// <inheritdoc cref="InRange{T}(Option{T}, T, T)"/>
    public static Option<T?> InRange<T>(this Option<T?> option, T minimum, T maximum)
        where T : struct, System.Numerics.INumber<T>
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (TryGetValue(result, out T? given) && given is { } value && OutOfRange(value, minimum, maximum))
            {
                result.AddError(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{option.Name} must be in [{minimum}, {maximum}], not {value}."));
            }
        });
        return option;
    }

    /// <summary>
    /// <see cref="NotBlank{T}"/>, and the value must be a Redis endpoint string (<see cref="RedisConnectionFactory.CreateConfiguration"/>):
    /// a mistake such as an empty entry (<c>a:1,,b:1</c>) is a usage error (exit 2) that names the option, before any work.
    /// </summary>
    public static Option<string?> RedisEndpoints(this Option<string?> option)
    {
        option.NotBlank().Validators.Add(result =>
        {
            if (!result.Implicit && TryGetValue(result, out string? value) && !string.IsNullOrWhiteSpace(value) && !value.Any(char.IsControl))
            {
                try
                {
                    RedisConnectionFactory.CreateConfiguration(value);
                }
                catch (ArgumentException e)
                {
                    result.AddError($"{option.Name}: {e.Message}");
                }
            }
        });
        return option;
    }

    /// <summary>
    /// A text option, when given, must not be empty or blank, nor hold a control character (a line break would forge lines
    /// in the outputs that show it). An empty value is what <c>--redis "$REDIS"</c> gives when the variable is unset: it is
    /// refused here (exit 2, naming the option) rather than read as "not given" and answered later by a fallback (a local
    /// registry directory, the default Redis) or a message that does not name the option.
    /// </summary>
    public static Option<T> NotBlank<T>(this Option<T> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (!result.Implicit && TryGetValue(result, out string? value) && value is not null)
            {
                if (string.IsNullOrWhiteSpace(value))
                {
                    result.AddError($"{option.Name} needs a value, not an empty string.");
                }
                else if (value.Any(char.IsControl))
                {
                    result.AddError($"{option.Name} must not hold a line break or another control character.");
                }
            }
        });
        return option;
    }

    /// <summary>
    /// An exception's message as an operator should read it: an <see cref="ArgumentException"/>'s without the
    /// " (Parameter 'name')" .NET appends (the name of a library method's parameter, not an option of the command).
    /// </summary>
    public static string PlainMessage(Exception e)
    {
        ArgumentNullException.ThrowIfNull(e);
        return e is ArgumentException { ParamName: { } name } ? e.Message.Replace($" (Parameter '{name}')", string.Empty, StringComparison.Ordinal) : e.Message;
    }

    private static bool OutOfRange<T>(T value, T minimum, T maximum)
        where T : struct, System.Numerics.INumber<T> =>
        T.IsNaN(value) || T.IsInfinity(value) || value < minimum || value > maximum;

    // A validator runs even when the token did not convert ("--nights many"): the parser reports that error itself, and
    // reading the value would throw, so such a value is left to it.
    /// <summary>
    /// An option's value from a command's validator, false when the option's own token does not parse (its parse error is
    /// already reported; GetValue would throw, and the throw ended the command as "unexpected error", exit 70).
    /// </summary>
    internal static bool TryGetValue<T>(System.CommandLine.Parsing.CommandResult result, Option<T> option, out T value)
    {
        try
        {
            value = result.GetValue(option)!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    internal static bool TryGetValue<T>(System.CommandLine.Parsing.OptionResult result, out T value)
    {
        try
        {
            value = result.GetValueOrDefault<T>()!;
            return true;
        }
        catch (InvalidOperationException)
        {
            value = default!;
            return false;
        }
    }

    public static Option<string?> SchemaDirOption() => new("--schema-dir")
    {
        Description = "Directory of <id>.avsc files for Confluent-wire messages.",
    };

    /// <summary>
    /// Refuses <paramref name="registry"/> and <paramref name="directory"/> together on <paramref name="command"/>: the
    /// registry was used and the directory ignored without a word.
    /// </summary>
    public static void OneSchemaSource(Command command, Option<string?> registry, Option<string?> directory) =>
        NotBoth(command, registry, directory, "--schema-registry and --schema-dir are two sources of schemas: give one");

    /// <summary>
    /// Refuses <paramref name="a"/> and <paramref name="b"/> both given on the command line, with
    /// <paramref name="message"/>: two answers to one question, one of which would be dropped without a word.
    /// </summary>
    public static void NotBoth(Command command, Option a, Option b, string message) =>
        command.Validators.Add(result =>
        {
            if (result.GetResult(a) is { Implicit: false } && result.GetResult(b) is { Implicit: false })
            {
                result.AddError(message);
            }
        });

    /// <summary>
    /// Refuses each of <paramref name="dependents"/> given on the command line while <paramref name="enabled"/> is false
    /// (it would be ignored without a word), with <paramref name="message"/>(the option's name).
    /// </summary>
    public static void OnlyWith(Command command, Option[] dependents, Func<System.CommandLine.Parsing.CommandResult, bool> enabled, Func<string, string> message) =>
        command.Validators.Add(result =>
        {
            if (dependents.Any(o => result.GetResult(o) is { Implicit: false }) && !enabled(result))
            {
                foreach (var option in dependents.Where(o => result.GetResult(o) is { Implicit: false }))
                {
                    result.AddError(message(option.Name));
                }
            }
        });

    public static Argument<string[]> PathsArgument(string description) => ExistingPaths(new("paths")
    {
        Description = description,
        Arity = ArgumentArity.OneOrMore,
    });

    /// <summary>
    /// Input paths given on the command line must exist (a file or a directory): a typo is a usage error (exit 2) naming
    /// the path, before anything runs — not an empty run that looks like "no alerts" or silently replays the defaults.
    /// </summary>
    public static Argument<string[]> ExistingPaths(Argument<string[]> argument) => argument.MustExist(PathKind.FileOrDirectory);

    /// <summary>
    /// An ids file (<c>--test-ids</c>, <c>--exclude-ids</c>) must hold at least one id: an empty one was "cannot read the
    /// test ids" (exit 1) only after the data were read, where ids that match nothing are a usage error (exit 2). Read as
    /// <see cref="HoldoutIds.Read"/> reads it (a BOM, '#' comments and blank lines are no ids); a file that cannot be read
    /// is left to that.
    /// </summary>
    public static Option<string?> HoldingIds(this Option<string?> option)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.Implicit || !TryGetValue(result, out string? path) || path is null || !File.Exists(path))
            {
                return;
            }

            try
            {
                if (AlertBroker.Training.Data.HoldoutIds.HoldsIds(path))
                {
                    return;
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return;
            }

            result.AddError($"{option.Name} {path} holds no object ids (one id per line, '#' comments): give the ids of the objects it is for");
        });
        return option;
    }

    /// <summary>
    /// The input path(s) an option or argument names must exist, as <paramref name="kind"/> says: otherwise a usage error
    /// (exit 2) naming the path and the option, before anything runs — not .NET's "Could not find a part of the path …"
    /// or "Access to the path … is denied" (a directory where a file is wanted) from deep inside the command. A value
    /// that starts with '-' and is no path is an option the command does not have, handed over as a path by an option
    /// that takes several (<c>--data a b --epochs 3</c>): named as such.
    /// </summary>
    public static Option<T> MustExist<T>(this Option<T> option, PathKind kind)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (!result.Implicit)
            {
                // A default (e.g. score's --registry models) may be absent: the command has its own fallback for it.
                CheckPaths(result.GetValueOrDefault<T>(), kind, option.Name, result.AddError);
            }
        });
        return option;
    }

    /// <inheritdoc cref="MustExist{T}(Option{T}, PathKind)"/>
    public static Argument<T> MustExist<T>(this Argument<T> argument, PathKind kind)
    {
        ArgumentNullException.ThrowIfNull(argument);
        argument.Validators.Add(result => CheckPaths(result.GetValueOrDefault<T>(), kind, $"<{argument.Name}>", result.AddError));
        return argument;
    }

    /// <summary>An output file option must not name an existing directory (a usage error, before any work is done).</summary>
    public static Option<T> OutputFile<T>(this Option<T> option) => option.NotExisting(PathKind.Directory, "a file to write");

    /// <summary>An output directory option must not name an existing file (a usage error, before any work is done).</summary>
    public static Option<T> OutputDirectory<T>(this Option<T> option) => option.NotExisting(PathKind.File, "a directory to write");

    /// <summary>Whether <paramref name="path"/> names the root of a file system (<c>/</c>, <c>//</c>, <c>/./..</c>).</summary>
    internal static bool IsFileSystemRoot(string path)
    {
        try
        {
            var full = Path.GetFullPath(path);
            return string.Equals(full, Path.GetPathRoot(full), StringComparison.Ordinal);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or PathTooLongException)
        {
            return false;
        }
    }

    private static Option<T> NotExisting<T>(this Option<T> option, PathKind wrong, string takes)
    {
        ArgumentNullException.ThrowIfNull(option);
        option.Validators.Add(result =>
        {
            if (result.GetValueOrDefault<T>() is string blank && string.IsNullOrWhiteSpace(blank))
            {
                result.AddError($"{option.Name} needs a path, not an empty string");
            }
            else if (result.GetValueOrDefault<T>() is string link && wrong == PathKind.File && BrokenLinkTarget(link) is { } target)
            {
                // File.Exists is true for a link to nothing: it was called "a file".
                result.AddError($"{link} is a symbolic link to {target}, which does not exist; {option.Name} takes {takes}");
            }
            else if (result.GetValueOrDefault<T>() is string path && (wrong == PathKind.Directory ? Directory.Exists(path) : File.Exists(path)))
            {
                result.AddError($"{path} is a {(wrong == PathKind.Directory ? "directory" : "file")}; {option.Name} takes {takes}");
            }
            else if (result.GetValueOrDefault<T>() is string root && IsFileSystemRoot(root))
            {
                // "--out /": a package took its version from an empty folder name and failed only when writing ("The value
                // cannot be an empty string"), after a whole training run for train and finetune.
                result.AddError($"{root} is the file system's root; {option.Name} takes {takes} below it");
            }
        });
        return option;
    }

    /// <summary>
    /// An output must not be what the command reads: an input path itself (a file, or a package directory), the other half of a light-curve CSV pair
    /// (<c>x_lightcurves.csv[.gz]</c> ↔ <c>x_metadata.csv[.gz]</c>), or, inside an input directory, an alert file or archive
    /// it would read or a CSV pair file directly in it. A usage error (exit 2) naming both, before anything runs: before,
    /// <c>replay F --out F</c> emptied F and then reported it as an empty message, and <c>split --data D --out
    /// D/x_metadata.csv</c> wrote the test ids over the labels it had just read (exit 0).
    /// </summary>
    /// <param name="command">The command.</param>
    /// <param name="output">The output option.</param>
    /// <param name="kind">What the output is (a file or a directory): an existing path of the other kind is left to <see cref="OutputFile{T}"/> or <see cref="OutputDirectory{T}"/> to name.</param>
    /// <param name="inputs">The options and arguments naming what the command reads.</param>
    public static void RefuseOutputThatIsAnInput(this Command command, Option output, PathKind kind, params Symbol[] inputs)
    {
        ArgumentNullException.ThrowIfNull(command);
        command.Validators.Add(result =>
        {
            if (ValueOf(result, output) is not string path || string.IsNullOrWhiteSpace(path)
                || (kind == PathKind.File ? Directory.Exists(path) : File.Exists(path)))
            {
                return;
            }

            string target;
            try
            {
                target = Canonical(path);
            }
            catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException)
            {
                return;
            }

            foreach (var input in inputs)
            {
                var given = ValueOf(result, input) switch
                {
                    string one => [one],
                    IEnumerable<string> several => several,
                    _ => [],
                };
                foreach (var source in given)
                {
                    if (!string.IsNullOrWhiteSpace(source) && Reads(source, target))
                    {
                        var name = input is Argument argument ? $"<{argument.Name}>" : input.Name;
                        result.AddError($"{output.Name} {path} is also read by this command ({name} {source}): writing it would overwrite the input; give another path");
                        return;
                    }
                }
            }
        });
    }

    private static object? ValueOf(System.CommandLine.Parsing.CommandResult result, Symbol symbol) => symbol switch
    {
        Option option => result.GetResult(option)?.GetValueOrDefault<object?>(),
        Argument argument => result.GetResult(argument)?.GetValueOrDefault<object?>(),
        _ => null,
    };

    // Whether writing target (a full path) would write over what reading source takes in.
    private static bool Reads(string source, string target)
    {
        string full;
        try
        {
            full = Canonical(source);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException or IOException)
        {
            return false;
        }

        if (Directory.Exists(full))
        {
            if (string.Equals(full, target, StringComparison.Ordinal))
            {
                // A package directory read and written (finetune --from P --out P wrote the fine-tune over its base).
                return true;
            }

            var relative = Path.GetRelativePath(full, target);
            if (relative == "." || relative.StartsWith("..", StringComparison.Ordinal) || Path.IsPathRooted(relative))
            {
                return false;
            }

            var name = Path.GetFileName(target);
            return name.EndsWith(".avro", StringComparison.OrdinalIgnoreCase) || Alerts.Archives.AlertArchiveReader.IsArchive(name)
                || (Path.GetDirectoryName(relative) is null or "" && LightCurveCsvReader.PairStem(name) is not null);
        }

        if (string.Equals(full, target, StringComparison.Ordinal))
        {
            return true;
        }

        // One half of a light-curve pair names the other: reading one reads both.
        return LightCurveCsvReader.PairStem(Path.GetFileName(full)) is { } stem
            && string.Equals(stem, LightCurveCsvReader.PairStem(Path.GetFileName(target)), StringComparison.Ordinal)
            && string.Equals(Path.GetDirectoryName(full), Path.GetDirectoryName(target), StringComparison.Ordinal);
    }

    // The full path, through a symbolic link at its end (`ln -s data.csv out.csv`, then --out out.csv).
    internal static string Canonical(string path)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        try
        {
            var link = File.Exists(full) ? File.ResolveLinkTarget(full, returnFinalTarget: true)
                : Directory.Exists(full) ? Directory.ResolveLinkTarget(full, returnFinalTarget: true)
                : null;
            return link?.FullName ?? full;
        }
        catch (IOException)
        {
            return full;
        }
    }

    /// <summary>
    /// Whether <paramref name="directory"/> can be made (null: yes, or it exists; else why not), tried before a command
    /// does its work so that an output place it cannot write is said at once, not after a training or an evaluation. What
    /// the probe makes it removes again.
    /// </summary>
    public static string? CannotCreateDirectory(string? directory)
    {
        if (string.IsNullOrEmpty(directory) || Directory.Exists(directory))
        {
            return null;
        }

        try
        {
            var full = Path.GetFullPath(directory);
            var top = full;
            while (Path.GetDirectoryName(top) is { } parent && !Directory.Exists(parent))
            {
                top = parent;
            }

            Directory.CreateDirectory(full);
            Directory.Delete(top, recursive: true);
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return e.Message;
        }
    }

    /// <summary>
    /// Makes the folder an output file goes in (true), or says on stderr why it cannot ("cannot write FILE: why") — before
    /// the command does its work, so that a place it cannot write is said at once.
    /// </summary>
    public static bool CanWriteFileIn(string? file)
    {
        if (file is null)
        {
            return true;
        }

        try
        {
            if (Path.GetDirectoryName(Path.GetFullPath(file)) is { Length: > 0 } folder)
            {
                Directory.CreateDirectory(folder);
            }

            // The file itself too: a folder that exists but takes no file (/proc/x) or a file that cannot be written
            // (/proc/version) was found only after the work (evaluate --predictions evaluated, wrote its report, then
            // failed). An existing regular file is opened for writing without being changed; a new one is made and
            // removed. Anything else (a pipe, a device, /dev/stdout) is left to the write: opening a pipe waits for a reader;
            // so is a link (to nothing yet, or to something), the write going where it leads.
            var isLink = new FileInfo(file).LinkTarget is not null;
            if (!isLink && !File.Exists(file) && !Directory.Exists(file))
            {
                using (new FileStream(file, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1))
                {
                }

                File.Delete(file);
            }
            else if (!isLink && AlertBroker.Alerts.Archives.FileType.Of(file) == AlertBroker.Alerts.Archives.FileKind.Regular)
            {
                using (new FileStream(file, FileMode.Open, FileAccess.Write, FileShare.ReadWrite, 1))
                {
                }
            }

            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            CannotWrite(file, e.Message);
            return false;
        }
    }

    /// <summary>As <see cref="CannotCreateDirectory"/> for an output directory; says so on stderr ("cannot write DIR: why").</summary>
    public static bool CanWriteDirectory(string? directory)
    {
        if (CannotCreateDirectory(directory) is not { } problem)
        {
            return true;
        }

        CannotWrite(directory!, problem);
        return false;
    }

    /// <summary>
    /// Says on stderr that <paramref name="path"/> cannot be written, and why (one line: "cannot write PATH: why"; the
    /// " : 'PATH'" .NET appends to some I/O messages is left out, the path being said already).
    /// </summary>
    public static void CannotWrite(string path, string why) =>
        Stderr.MarkupLine($"[red]cannot write {Markup.Escape(path)}:[/] {Markup.Escape(why.Replace($" : '{path}'", string.Empty, StringComparison.Ordinal))}");

    /// <summary>A count and its noun, singular for one: <c>1 dead letter</c>, <c>1,204 dead letters</c> (invariant digit grouping).</summary>
    public static string Counted(long count, string singular, string? plural = null) =>
        string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{count:N0} {(count == 1 ? singular : plural ?? singular + "s")}");

    private static void CheckPaths(object? value, PathKind kind, string symbol, Action<string> error)
    {
        IEnumerable<string> paths = value switch
        {
            string one => [one],
            IEnumerable<string> several => several,
            _ => [],
        };
        var option = symbol.StartsWith('-');
        var named = option ? $" ({symbol})" : string.Empty;
        foreach (var path in paths)
        {
            if (string.IsNullOrWhiteSpace(path))
            {
                error($"{symbol} needs a path, not an empty string");
                continue;
            }

            if (BrokenLinkTarget(path) is { } nowhere)
            {
                // .NET says a symbolic link whose target is gone exists (as a file): the command then failed to open it,
                // exit 1 ("Could not find file"), where a path that does not exist is a usage error.
                error($"{path} is a symbolic link to {nowhere}, which does not exist{named}");
                continue;
            }

            var isFile = File.Exists(path);
            var isDirectory = Directory.Exists(path);
            var problem = (isFile, isDirectory, kind) switch
            {
                (false, false, _) when option && path.StartsWith('-') => $"{path}: not an option of this command (read as a {symbol} value; see --help)",
                (false, false, PathKind.File) => $"no such file: {path}{named}",
                (false, false, PathKind.Directory) => $"no such directory: {path}{named}",
                (false, false, _) => $"no such file or directory: {path}{named}",
                (false, true, PathKind.File) => $"{path} is a directory; {symbol} takes a file",
                (true, false, PathKind.Directory) => $"{path} is a file; {symbol} takes a directory",
                _ => null,
            };
            if (problem is not null)
            {
                error(problem);
                if (option && path.StartsWith('-'))
                {
                    return; // what follows a stray option is its value, not a path
                }
            }
        }
    }

    // The target of a symbolic link that leads nowhere (null: not a link, or its target exists).
    internal static string? BrokenLinkTarget(string path)
    {
        try
        {
            var info = new FileInfo(path);
            if (info.LinkTarget is not { } target)
            {
                return null;
            }

            // Followed link by link: /dev/stdin, /dev/fd/63 (a shell's <(…)) lead into /proc, where the kernel's links name
            // a pipe ("pipe:[976947]") that no path holds but that opens all the same; those are not broken.
            FileSystemInfo step = info;
            for (var hops = 0; hops < 40 && step.LinkTarget is { } next; hops++)
            {
                if (step.FullName.StartsWith("/proc/", StringComparison.Ordinal) || step.FullName.StartsWith("/dev/fd/", StringComparison.Ordinal))
                {
                    return null;
                }

                step = new FileInfo(Path.IsPathRooted(next) ? next : Path.Combine(Path.GetDirectoryName(step.FullName) ?? "/", next));
            }

            return File.Exists(step.FullName) || Directory.Exists(step.FullName) ? null : target;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return null;
        }
    }

    /// <summary>
    /// A decoder resolving Confluent-wire schema ids in a registry (Confluent's client; basic authentication from
    /// <c>AlertBroker__Schemas__RegistryUsername</c> and <c>AlertBroker__Schemas__RegistryPassword</c>, as for <c>run</c>)
    /// or a directory of <c>&lt;id&gt;.avsc</c> files, else the <c>schemas/</c> folders beside <paramref name="inputs"/>
    /// (see <see cref="CreateSchemaLookup"/>); <paramref name="limits"/> (default: the decoder's) bound what a message may cost.
    /// </summary>
    public static AlertDecoder CreateDecoder(string? registry, string? schemaDir, AlertBroker.Avro.AvroLimits? limits = null, IEnumerable<string>? inputs = null) =>
        new(new AlertDecoderOptions { SchemaLookup = CreateSchemaLookup(registry, schemaDir, inputs), Limits = limits ?? AlertBroker.Avro.AvroLimits.Default });

    /// <summary>
    /// The schemas of Confluent-wire messages: <c>--schema-registry</c>, else <c>--schema-dir</c>, else the
    /// <c>schemas/</c> folders that <c>simulate alerts --framing confluent</c> writes beside its streams, found from the
    /// <paramref name="inputs"/> read (an input folder's own or its parent's, a file's folder's), else none.
    /// </summary>
    public static ISchemaLookup? CreateSchemaLookup(string? registry, string? schemaDir, IEnumerable<string>? inputs = null) =>
        registry is not null
            ? ConfluentSchemaRegistryLookup.Create(
                registry,
                Environment.GetEnvironmentVariable("AlertBroker__Schemas__RegistryUsername"),
                Environment.GetEnvironmentVariable("AlertBroker__Schemas__RegistryPassword"))
            : schemaDir is not null ? new DirectorySchemaLookup(schemaDir)
            : inputs is null ? null : Worker.InputSchemaFolders.Lookup(Worker.InputSchemaFolders.Find(inputs));

    /// <summary>
    /// The <c>--kafka-property key=value</c> settings as a dictionary (a later key replaces an earlier one); null, after
    /// saying why on stderr, when one is not key=value or would replace <c>--bootstrap-servers</c> (or, where
    /// <paramref name="group"/> is given — the empty string for a throw-away group —, <c>--group</c>) with another value.
    /// </summary>
    public static Dictionary<string, string>? TryKafkaProperties(IEnumerable<string> values, string servers, string? group)
    {
        ArgumentNullException.ThrowIfNull(values);
        var properties = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in values)
        {
            var eq = p.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0)
            {
                Stderr.MarkupLine($"[red]--kafka-property must be key=value:[/] {Markup.Escape(p)}");
                return null;
            }

            properties[p[..eq]] = p[(eq + 1)..];
        }

        if (AlertBroker.Worker.Kafka.KafkaBootstrapServers.Overridden(properties, servers, group) is { } overridden)
        {
            var option = overridden.Group ? "--group" : "--bootstrap-servers";
            Stderr.MarkupLine($"[red]--kafka-property {Markup.Escape(overridden.Name)}={Markup.Escape(overridden.Value)} contradicts {option}:[/] give it with {option} only");
            return null;
        }

        return properties;
    }

    /// <summary>
    /// Builds a Kafka client from settings a user gave (<c>--kafka-property</c>); null (after saying why on stderr) when
    /// librdkafka refuses them — an unknown key or a bad value is a setting problem (exit 2), not an unexpected error.
    /// </summary>
    public static T? TryBuildKafkaClient<T>(Func<T> build, KafkaOptions security)
        where T : class
    {
        ArgumentNullException.ThrowIfNull(build);
        try
        {
            return build();
        }
        catch (Exception e) when (IsKafkaConfigurationError(e))
        {
            ReportKafkaConfigurationError(e, security);
            return null;
        }
    }

    /// <summary>
    /// The worker's typed Kafka security settings (<c>AlertBroker__Kafka__SecurityProtocol</c>, <c>…SaslMechanism</c>,
    /// <c>…SaslUsername</c>, <c>…SaslPassword</c>, <c>…SslCaLocation</c>, …) from the environment, checked as <c>run</c>
    /// checks them, with <paramref name="properties"/> (<c>--kafka-property</c>) as their pass-through; null (after saying
    /// why on stderr: the command exits 2) when a variable is of the wrong shape or the settings cannot be used together.
    /// Every Kafka client a command makes applies the result with <see cref="KafkaSecurity.Apply"/>
    /// after its <c>--kafka-property</c> settings.
    /// </summary>
    public static KafkaOptions? TryKafkaSecurity(string bootstrapServers, IReadOnlyDictionary<string, string> properties)
    {
        ArgumentNullException.ThrowIfNull(properties);
        KafkaOptions security;
        try
        {
            var environment = new ConfigurationBuilder().AddEnvironmentVariables().Build();
            if (ConfigurationKeyCheck.ShapeProblems(environment, "Kafka") is { Count: > 0 } shapes)
            {
                // AlertBroker__Kafka__SecurityProtocol=-1 bound as an undefined enum value (ArgumentOutOfRangeException later).
                Stderr.MarkupLine("[red]invalid Kafka settings:[/] " + Markup.Escape(string.Join(" ", shapes)));
                return null;
            }

            security = environment.GetSection(KafkaOptions.Section).Get<KafkaOptions>() ?? new KafkaOptions();
        }
        catch (InvalidOperationException e)
        {
            Stderr.MarkupLine("[red]invalid Kafka settings:[/] " + Markup.Escape(e.Message));
            return null;
        }

        security.BootstrapServers = bootstrapServers;
        security.Properties = new Dictionary<string, string>(properties, StringComparer.Ordinal);
        var problems = KafkaSecurity.Validate(security);
        if (problems.Count > 0)
        {
            Stderr.MarkupLine("[red]invalid Kafka settings:[/]");
            foreach (var p in problems)
            {
                Stderr.MarkupLine("  " + Markup.Escape(p));
            }

            return null;
        }

        return security;
    }

    /// <summary>
    /// Before a command reads or writes a topic, a broker must answer a metadata request within 15 s: otherwise one line
    /// naming the brokers and the client's last error, and false (the command exits 4) — not a producer or consumer that
    /// queues or waits for ever while librdkafka prints its retries.
    /// </summary>
    public static bool KafkaAnswers(Confluent.Kafka.Handle handle, string bootstrapServers, Func<string?> lastError)
    {
        ArgumentNullException.ThrowIfNull(lastError);
        using var admin = new Confluent.Kafka.DependentAdminClientBuilder(handle).Build();
        try
        {
            admin.GetMetadata(TimeSpan.FromSeconds(15));
            return true;
        }
        catch (Confluent.Kafka.KafkaException e)
        {
            Stderr.MarkupLine("[red]Kafka at " + Markup.Escape(bootstrapServers) + " did not answer:[/] " + Markup.Escape(lastError() ?? e.Error.Reason));
            return false;
        }
    }

    /// <summary>
    /// The reason to keep as a client's last error: <paramref name="error"/>'s, unless it is only its code's generic words
    /// ("Local: Broker transport failure") and a reason was heard already: a refused TLS handshake ("SSL handshake failed:
    /// …") is what the brokers' not answering is said to be, not the bare transport failure that follows it.
    /// </summary>
    public static string MoreSpecific(string? last, Confluent.Kafka.Error error)
    {
        ArgumentNullException.ThrowIfNull(error);
        return last is not null && string.Equals(error.Reason, Confluent.Kafka.ErrorCodeExtensions.GetReason(error.Code), StringComparison.Ordinal) ? last : error.Reason;
    }

    /// <summary>
    /// As <see cref="KafkaAnswers(Confluent.Kafka.Handle, string, Func{string?})"/>, asked by a short-lived admin client made
    /// from <paramref name="config"/> (a consumer's settings, security included), whose errors are heard at once.
    /// </summary>
    public static bool KafkaAnswers(IEnumerable<KeyValuePair<string, string>> config, string bootstrapServers)
    {
        string? lastError = null;
        using var admin = new Confluent.Kafka.AdminClientBuilder(config)
            .SetErrorHandler((_, e) => lastError = MoreSpecific(lastError, e))
            .SetLogHandler((_, _) => { })
            .Build();
        return KafkaAnswers(admin.Handle, bootstrapServers, () => lastError);
    }

    /// <summary>What librdkafka throws when it refuses a client configuration.</summary>
    public static bool IsKafkaConfigurationError(Exception e) => e is InvalidOperationException or ArgumentException or Confluent.Kafka.KafkaException;

    /// <summary>Says on stderr that librdkafka refused the client configuration, and why (<see cref="KafkaConfigurationErrorText"/>).</summary>
    public static void ReportKafkaConfigurationError(Exception e, KafkaOptions security) =>
        Stderr.MarkupLine("[red]librdkafka does not accept the client configuration:[/] " + Markup.Escape(KafkaConfigurationErrorText(e, security)));

    /// <summary>
    /// librdkafka's reason for refusing a client configuration with every secret of <paramref name="security"/> (typed or
    /// given with <c>--kafka-property</c>) replaced by <c>*****</c>. Until 2026-12-07 the reason was printed as it came.
    /// </summary>
    public static string KafkaConfigurationErrorText(Exception e, KafkaOptions security)
    {
        ArgumentNullException.ThrowIfNull(e);
        ArgumentNullException.ThrowIfNull(security);
        return KafkaSecurity.Redact(e.Message, security);
    }

    /// <summary>Loads the packaged librdkafka for a command that uses Kafka; false (after saying why on stderr) when it cannot.</summary>
    public static bool TryLoadKafka()
    {
        try
        {
            KafkaNativeLibrary.Load();
            return true;
        }
        catch (KafkaNativeLibraryException e)
        {
            Stderr.MarkupLine("[red]librdkafka:[/] " + Markup.Escape(e.Message));
            return false;
        }
    }

    /// <summary>True (after one line saying so) when a <c>--config</c> file was given and is not a file: missing, or a directory.</summary>
    public static bool ConfigFileProblem(string? configFile)
    {
        if (configFile is null || File.Exists(configFile))
        {
            return false;
        }

        Stderr.MarkupLine(Directory.Exists(configFile)
            ? $"[red]configuration file not found:[/] {Markup.Escape(configFile)} is a directory; --config takes a JSON file"
            : $"[red]configuration file not found:[/] {Markup.Escape(configFile)}");
        return true;
    }

    /// <summary>
    /// Adds a JSON configuration file; a file that is not valid JSON is reported as invalid configuration (one line,
    /// with the parser's position) and false returned, so the caller exits with 2 instead of an unexpected error.
    /// </summary>
    public static bool TryAddJsonConfiguration(Microsoft.Extensions.Configuration.IConfigurationBuilder configuration, string file)
    {
        try
        {
            Microsoft.Extensions.Configuration.JsonConfigurationExtensions.AddJsonFile(configuration, Path.GetFullPath(file), optional: false);
            _ = configuration.Build();
            return true;
        }
        catch (Exception e) when (e is InvalidDataException or IOException or FormatException or UnauthorizedAccessException)
        {
            var detail = e.Message;
            for (var inner = e.InnerException; inner is not null; inner = inner.InnerException)
            {
                detail += " " + inner.Message;
            }

            Stderr.MarkupLine($"[red]invalid configuration:[/] {Markup.Escape(detail)}");
            return false;
        }
    }

    /// <summary>
    /// A console for progress and diagnostics on stderr, so stdout stays machine-readable. Redirected (a log, a supervisor,
    /// a test) it does not wrap lines at a console width: one message stays one line.
    /// </summary>
    public static IAnsiConsole Stderr { get; } = CreateStderr();

    private static IAnsiConsole CreateStderr()
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        if (Console.IsErrorRedirected)
        {
            console.Profile.Width = 4096;
            Plain(console.Profile);
        }

        return console;
    }

    /// <summary>No ANSI escape codes (colours, styles) on a console that is not a terminal.</summary>
    internal static void Plain(Profile profile)
    {
        profile.Capabilities.Ansi = false;
        profile.Capabilities.ColorSystem = ColorSystem.NoColors;
    }

    /// <summary>
    /// The project's shared sample folder (<c>../shared</c> beside the checkout), found by walking up from the
    /// working directory and from the program's own folder; null when there is none.
    /// </summary>
    /// <summary>
    /// A line made of data (alert fields, message keys and values, file names) safe to print on a terminal: each control
    /// character (C0, DEL, C1: newlines and escape sequences among them) written as <c>\uXXXX</c>. Until 2026-12-07
    /// <c>inspect</c> and <c>consume</c> printed them as they came, so a field holding ESC and a newline coloured the
    /// terminal and forged a line.
    /// </summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var first = -1;
        for (var i = 0; i < text.Length; i++)
        {
            if (char.IsControl(text[i]))
            {
                first = i;
                break;
            }
        }

        if (first < 0)
        {
            return text;
        }

        var b = new System.Text.StringBuilder(text.Length + 16);
        b.Append(text, 0, first);
        for (var i = first; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsControl(c))
            {
                b.Append(System.Globalization.CultureInfo.InvariantCulture, $"\\u{(int)c:X4}");
            }
            else
            {
                b.Append(c);
            }
        }

        return b.ToString();
    }

    public static string? FindSharedDirectory()
    {
        foreach (var start in new[] { Environment.CurrentDirectory, AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var candidate = Path.Combine(dir.FullName, "shared", "alert-samples");
                if (Directory.Exists(candidate))
                {
                    return Path.Combine(dir.FullName, "shared");
                }
            }
        }

        return null;
    }
}

/// <summary>What an input path given on the command line must be (<see cref="CliHelpers.MustExist{T}(Option{T}, PathKind)"/>).</summary>
internal enum PathKind
{
    /// <summary>A file or a directory (alert paths, labelled data: a CSV pair's directory or one of its files).</summary>
    FileOrDirectory,

    /// <summary>A file (ids lists, labels, class maps, reference outputs, an ONNX graph).</summary>
    File,

    /// <summary>A directory (a model package).</summary>
    Directory,
}
