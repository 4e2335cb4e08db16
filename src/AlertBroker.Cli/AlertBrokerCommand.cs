using System.CommandLine;
using AlertBroker.Cli.Commands;

namespace AlertBroker.Cli;

/// <summary>The <c>alertbroker</c> root command: one sub-command per area.</summary>
internal static class AlertBrokerCommand
{
    public static RootCommand Create()
    {
        var root = new RootCommand("AlertBroker: decode, normalise, store and classify ZTF and Rubin/LSST alert streams.");
        root.Subcommands.Add(DemoCommand.Create());
        root.Subcommands.Add(RunCommand.Create());
        root.Subcommands.Add(ServeCommand.Create());
        root.Subcommands.Add(ConsumeCommand.Create());
        root.Subcommands.Add(Worker.MockKafkaCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(ReplayCommand.Create());
        root.Subcommands.Add(ModelsCommand.Create());
        root.Subcommands.Add(ScoreCommand.Create());
        root.Subcommands.Add(BenchCommand.Create());
        root.Subcommands.Add(TrainCommand.Create());
        root.Subcommands.Add(FinetuneCommand.Create());
        root.Subcommands.Add(EvaluateCommand.Create());
        root.Subcommands.Add(ExperimentCommand.Create());
        root.Subcommands.Add(SplitCommand.Create());
        root.Subcommands.Add(SimulateCommand.Create());
        return root;
    }

    /// <summary>
    /// Parses and runs. <c>run</c> handles SIGTERM and SIGINT itself (a clean stop that may take as long as a drain, exit
    /// code 0); every other command gets <see cref="InvokeStoppableAsync"/> (its token cancelled, 130/143, the process
    /// ended if it has not stopped within <see cref="StopGrace"/>). Exceptions are not caught here: <c>Program</c> reports
    /// them on one line with exit code 70.
    /// </summary>
    /// <remarks>
    /// A command line that does not parse (an unknown option, a value of the wrong type or out of range, a required option
    /// missing) is a usage error: one line per error on stderr, a pointer to the command's help, exit code 2 (as for an
    /// invalid setting), nothing run. <c>alertbroker</c> alone prints the help.
    /// </remarks>
    public static Task<int> InvokeAsync(string[] args)
    {
        // No response files: "@2.7.0" (models promote with the name left out) was read as a file of arguments and said
        // "Response file not found '2.7.0'"; nothing here documents or needs them.
        var parse = Create().Parse(args, new ParserConfiguration { ResponseFileTokenReplacer = null });
        var takenAsValues = args.Length > 0 && parse.Action is not System.CommandLine.Help.HelpAction ? [.. OptionsTakenAsValues(parse), .. NumbersWithCommas(parse)] : new List<string>();
        if (args.Length > 0 && ((parse.Errors.Count > 0 && parse.Action is System.CommandLine.Invocation.ParseErrorAction) || takenAsValues.Count > 0))
        {
            var names = new List<string>();
            for (var result = parse.CommandResult; result is not null; result = result.Parent as System.CommandLine.Parsing.CommandResult)
            {
                names.Insert(0, result.Command is RootCommand ? "alertbroker" : result.Command.Name);
            }

            var command = string.Join(' ', names);
            foreach (var problem in takenAsValues)
            {
                Console.Error.WriteLine($"{command}: {problem}");
            }

            // The words themselves ("--bogus" of "--bogus: not an option …").
            var words = takenAsValues.Where(p => p.Contains(": not an option", StringComparison.Ordinal)).Select(p => p[..p.IndexOf(": not an option", StringComparison.Ordinal)]).ToList();
            foreach (var error in parse.Errors)
            {
                // A path option's own check says the same of a stray option it was given as a path, and a path argument's
                // check that it exists ("no such file or directory: --bogus") is about the same word: until 2026-12-07 both
                // lines were printed.
                // A number with a ',' is said once, by NumbersWithCommas (an integer option's own "Cannot parse" too).
                if (!takenAsValues.Contains(error.Message) && !words.Any(w => error.Message.EndsWith(": " + w, StringComparison.Ordinal))
                    && !takenAsValues.Any(p => p.Contains("' is not a number", StringComparison.Ordinal) && error.Message.Contains(p[p.IndexOf('\'', StringComparison.Ordinal)..(p.IndexOf("' is not a number", StringComparison.Ordinal) + 1)], StringComparison.Ordinal)))
                {
                    Console.Error.WriteLine($"{command}: {Readable(error.Message)}");
                }
            }

            Console.Error.WriteLine($"(the options: {command} --help)");
            return Task.FromResult(2);
        }

        if (args.Length == 0 && parse.Errors.Count > 0)
        {
            // No command: the help, and the usage-error code every command group without a subcommand gives (was 1).
            return InvokeThenAsync(parse, 2);
        }

        // run handles SIGTERM/SIGINT itself (a drain may take longer than any grace period here).
        return parse.CommandResult.Command.Name is "run"
            ? parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false })
            : InvokeStoppableAsync(parse);
    }

    /// <summary>
    /// The words of the command line that look like options the command does not have but were taken as values: one
    /// line each, naming the word and what took it. System.CommandLine takes any word that is not one of the command's
    /// options as a value of a multi-value option before it (<c>AllowMultipleArgumentsPerToken</c>: <c>consume --topic x
    /// --idle 3</c> read the topics <c>x</c>, <c>--idle</c> and <c>3</c>) or of a positional argument (<c>replay --bogus
    /// DIR</c>). A word that starts with <c>--</c> is never a value; one that starts with a single <c>-</c> is one only right
    /// after its option (<c>--topic -x</c>, a negative number) or after <c>--</c>. Until 2026-12-07 such words were used
    /// as values.
    /// </summary>
    internal static List<string> OptionsTakenAsValues(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var problems = new List<string>();
        System.CommandLine.Parsing.Token? previous = null;
        foreach (var token in parse.Tokens)
        {
            if (token.Type == System.CommandLine.Parsing.TokenType.DoubleDash)
            {
                break;
            }

            var value = token.Value;
            if (token.Type == System.CommandLine.Parsing.TokenType.Argument && value.Length > 1 && value[0] == '-'
                && (value[1] == '-' || (previous?.Type != System.CommandLine.Parsing.TokenType.Option && !double.TryParse(value, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out _)))
                && !parse.UnmatchedTokens.Contains(value))
            {
                problems.Add($"{value}: not an option of this command (read as a {TakenBy(parse.CommandResult, token)} value; see --help)");
            }

            previous = token;
        }

        return problems;
    }

    /// <summary>
    /// A number given with a ',' to an option or argument that takes numbers, one line each. The parser reads a number with
    /// its culture's thousands separators, so <c>--seconds 1,5</c> was 15 seconds (and <c>1,000</c> a thousand): a ',' is
    /// neither a decimal point nor a separator here; until 2026-12-07 it was read so without a word, by every command.
    /// </summary>
    internal static List<string> NumbersWithCommas(ParseResult parse)
    {
        ArgumentNullException.ThrowIfNull(parse);
        var problems = new List<string>();
        Visit(parse.RootCommandResult);
        return problems;

        void Visit(System.CommandLine.Parsing.SymbolResult result)
        {
            var (name, type) = result switch
            {
                System.CommandLine.Parsing.OptionResult o => (o.Option.Name, o.Option.ValueType),
                System.CommandLine.Parsing.ArgumentResult a when a.Parent is System.CommandLine.Parsing.CommandResult => ("<" + a.Argument.Name + ">", a.Argument.ValueType),
                _ => (null, null),
            };
            if (name is not null && IsNumeric(type!))
            {
                foreach (var token in result.Tokens)
                {
                    if (token.Type == System.CommandLine.Parsing.TokenType.Argument && token.Value.Contains(',', StringComparison.Ordinal))
                    {
                        problems.Add($"{name}: '{token.Value}' is not a number: a ',' is neither a decimal point nor a separator here (write 1.5, 1000)");
                    }
                }
            }

            if (result is System.CommandLine.Parsing.CommandResult command)
            {
                foreach (var child in command.Children)
                {
                    Visit(child);
                }
            }
        }

        static bool IsNumeric(Type type)
        {
            type = Nullable.GetUnderlyingType(type) ?? (type.IsArray ? type.GetElementType()! : type);
            type = Nullable.GetUnderlyingType(type) ?? type;
            return type == typeof(double) || type == typeof(float) || type == typeof(decimal) || type == typeof(int) || type == typeof(long)
                || type == typeof(short) || type == typeof(uint) || type == typeof(ulong) || type == typeof(TimeSpan);
        }
    }

    // What took the word as its value: an option's name, or a positional argument's <name>.
    private static string TakenBy(System.CommandLine.Parsing.CommandResult command, System.CommandLine.Parsing.Token token)
    {
        foreach (var child in command.Children)
        {
            if (child.Tokens.Any(t => ReferenceEquals(t, token)))
            {
                switch (child)
                {
                    case System.CommandLine.Parsing.OptionResult o:
                        return o.Option.Name;
                    case System.CommandLine.Parsing.ArgumentResult a:
                        return "<" + a.Argument.Name + ">";
                }
            }
        }

        return "command-line";
    }

    /// <summary>How long a command has to end after SIGINT or SIGTERM before the process ends without it.</summary>
    public static readonly TimeSpan StopGrace = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Runs every command but <c>run</c> with SIGINT (Ctrl-C) and SIGTERM as a stop request: the command's token is
    /// cancelled, so it stops where it checks it and cleans up (a partial output removed); the exit code is then 130
    /// (SIGINT) or 143 (SIGTERM) unless it had finished with 0. A command still running <see cref="StopGrace"/> later,
    /// or a second signal (more than <see cref="SameRequest"/> after the first), ends the process with that code.
    /// </summary>
    /// <remarks>
    /// System.CommandLine's own handler is not used: its default is off (ProcessTerminationTimeout null: a signal
    /// killed the process in the middle of writing), and it is registered only once the action has returned its task,
    /// which for a command that does its work synchronously is after the work.
    /// </remarks>
    // A signal this soon after the first is the same request delivered twice, not a second one.
    private static readonly TimeSpan SameRequest = TimeSpan.FromMilliseconds(250);

    private static async Task<int> InvokeStoppableAsync(ParseResult parse)
    {
        using var stop = new CancellationTokenSource();
        using var finished = new CancellationTokenSource();
        var signalled = 0;
        var firstSignal = 0L;
        void OnSignal(System.Runtime.InteropServices.PosixSignalContext context)
        {
            var code = context.Signal == System.Runtime.InteropServices.PosixSignal.SIGINT ? 130 : 143;
            Interlocked.CompareExchange(ref firstSignal, System.Diagnostics.Stopwatch.GetTimestamp(), 0);
            if (Interlocked.CompareExchange(ref signalled, code, 0) != 0)
            {
                // A second signal: end now (the runtime's default for it) — unless it comes within SameRequest of the first,
                // as from `timeout`, which signals the command and then its whole process group: that ended the process
                // mid-write, its partial files left and nothing said (about 1 run in 7).
                if (System.Diagnostics.Stopwatch.GetElapsedTime(Volatile.Read(ref firstSignal)) < SameRequest)
                {
                    context.Cancel = true;
                }

                return;
            }

            context.Cancel = true;
            RequestStop(stop, finished, code);
        }

        using var sigint = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGINT, OnSignal);
        using var sigterm = System.Runtime.InteropServices.PosixSignalRegistration.Create(System.Runtime.InteropServices.PosixSignal.SIGTERM, OnSignal);
        try
        {
            var result = await parse.InvokeAsync(new InvocationConfiguration { ProcessTerminationTimeout = null, EnableDefaultExceptionHandler = false }, stop.Token).ConfigureAwait(false);
            return Volatile.Read(ref signalled) is var code and not 0 && result != 0 ? code : result;
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return Volatile.Read(ref signalled);
        }
        finally
        {
            // The command has returned: what is left of the process's exit is not cut short with another code.
            await finished.CancelAsync().ConfigureAwait(false);
        }
    }

    /// <summary>
    /// The first stop signal: cancels the command's token (<paramref name="stop"/>) and, unless the command has ended by
    /// then (<paramref name="finished"/> cancelled), ends the process with <paramref name="code"/> after <see cref="StopGrace"/>.
    /// </summary>
    /// <remarks>
    /// Cancelling <paramref name="stop"/> runs the command's cancellation callbacks on this thread, and through them the
    /// rest of a command that was about to end: <see cref="InvokeStoppableAsync"/> can return and dispose both sources
    /// before <c>Cancel</c> returns. The grace timer's token is therefore taken first, and a source already disposed
    /// means the command has ended: until 2026-12-07 <c>finished.Token</c> was read after <c>stop.Cancel()</c> and a
    /// Ctrl-C near the end of a command (2 runs in 5 of a short <c>bench pipeline</c>) ended in "Unhandled exception.
    /// System.ObjectDisposedException" and a stack trace.
    /// </remarks>
    internal static void RequestStop(CancellationTokenSource stop, CancellationTokenSource finished, int code, Action<int>? exit = null)
    {
        ArgumentNullException.ThrowIfNull(stop);
        ArgumentNullException.ThrowIfNull(finished);
        CancellationToken ended;
        try
        {
            ended = finished.Token;
            stop.Cancel();
        }
        catch (ObjectDisposedException)
        {
            return;
        }

        _ = Task.Delay(StopGrace, ended).ContinueWith(
            t =>
            {
                if (!t.IsCanceled)
                {
                    Console.Error.WriteLine($"alertbroker: still running {StopGrace.TotalSeconds:0} s after the stop request; ending now");
                    (exit ?? Environment.Exit)(code);
                }
            },
            TaskScheduler.Default);
    }

    private static async Task<int> InvokeThenAsync(ParseResult parse, int exitCode)
    {
        await parse.InvokeAsync(new InvocationConfiguration { EnableDefaultExceptionHandler = false }).ConfigureAwait(false);
        return exitCode;
    }

    // System.CommandLine names the .NET type a value failed to parse as ('System.Nullable`1[System.Int32]'): say what it is.
    private static string Readable(string message) =>
        System.Text.RegularExpressions.Regex.Replace(message, @"as expected type '(?:System\.Nullable`1\[)?System\.(\w+)\]?'", m => m.Groups[1].Value switch
        {
            "Int32" or "Int64" or "Int16" or "UInt32" or "UInt64" => "as an integer",
            "Double" or "Single" or "Decimal" => "as a number",
            "Boolean" => "as true or false",
            var other => $"as {other}",
        });
}
