using System.CommandLine;

namespace AlertBroker.Cli.Tests;

/// <summary>
/// Every option of every command, given a value of the wrong kind or at an edge (not a number, empty, NaN, an overflow,
/// negative): parsing (which runs the validators) must give usage errors or accept it, never throw. A validator that read
/// a value without checking that it parsed threw InvalidOperationException here, which the program reported as
/// "unexpected error", exit 70 (demo --objects-per-night abc, train --benchmark --sequences abc). In-process: the
/// command tree is walked, each option tried alone and with every switch of its command on; nothing is run.
/// </summary>
public sealed class EveryOptionValueTests
{
    private static readonly string[] OddValues = ["abc", "", " ", "NaN", "-Infinity", "1e400", "-1", "99999999999999999999", "0x10", "1,5"];

    public static TheoryData<string> Commands()
    {
        var data = new TheoryData<string>();
        foreach (var (path, _) in Walk(AlertBrokerCommand.Create(), []))
        {
            data.Add(string.Join(' ', path));
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Commands))]
    public void OddValueOfAnyOption_ParsesToErrorsOrAValue_NeverThrows(string commandPath)
    {
        var root = AlertBrokerCommand.Create();
        var (path, command) = Walk(root, []).Single(c => string.Join(' ', c.Path) == commandPath);
        var config = new ParserConfiguration { ResponseFileTokenReplacer = null };
        var problems = new List<string>();
        // Once alone, once with every switch of the command on (a command's validator may read a value only when a
        // switch is given: train --benchmark --sequences abc).
        string[] switches = [.. command.Options.Where(o => o.ValueType == typeof(bool) && o.Name.StartsWith("--", StringComparison.Ordinal) && o.Name is not "--help" and not "--version").Select(o => o.Name)];
        foreach (var option in command.Options.Where(o => o.ValueType != typeof(bool)))
        {
            foreach (var (value, on) in OddValues.SelectMany(v => new[] { (v, false), (v, true) }))
            {
                string[] args = [.. path, .. on ? switches : [], option.Name, value];
                try
                {
                    var parse = root.Parse(args, config);
                    if (value == "abc" && IsNumeric(option.ValueType) && parse.Errors.Count == 0)
                    {
                        problems.Add($"{string.Join(' ', args)}: accepted 'abc' for a {option.ValueType.Name}");
                    }
                }
                catch (Exception e)
                {
                    problems.Add($"{string.Join(' ', args)}: {e.GetType().Name}: {e.Message}");
                }
            }
        }

        Assert.Empty(problems);
    }

    [Fact]
    public void TheWalkFindsTheCommandsAndTheirTypedOptions()
    {
        var commands = Walk(AlertBrokerCommand.Create(), []).ToList();
        Assert.Contains(commands, c => string.Join(' ', c.Path) == "models promote");
        Assert.Contains(commands, c => string.Join(' ', c.Path) == "simulate alerts");
        var typed = commands.SelectMany(c => c.Command.Options).Count(o => IsNumeric(o.ValueType));
        Assert.True(typed > 50, $"only {typed} numeric options found");
    }

    private static bool IsNumeric(Type type) =>
        (Nullable.GetUnderlyingType(type) ?? type) is var t && (t == typeof(int) || t == typeof(long) || t == typeof(double) || t == typeof(float) || t == typeof(ulong) || t == typeof(uint) || t == typeof(short));

    private static IEnumerable<(string[] Path, Command Command)> Walk(Command command, string[] path)
    {
        if (path.Length > 0)
        {
            yield return (path, command);
        }

        foreach (var sub in command.Subcommands)
        {
            foreach (var found in Walk(sub, [.. path, sub.Name]))
            {
                yield return found;
            }
        }
    }
}
