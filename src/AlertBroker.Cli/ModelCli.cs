using System.CommandLine;
using AlertBroker.Model.Onnx;
using AlertBroker.Model.Packaging;
using Spectre.Console;

namespace AlertBroker.Cli;

/// <summary>What the commands that load a model share: the <c>--device</c> option and one-line reports of an unusable model.</summary>
internal static class ModelCli
{
    /// <summary>The exit code of every command whose model (or ONNX Runtime) cannot be used, as for the worker.</summary>
    public const int ModelUnusableExitCode = 3;

    public static Option<string> DeviceOption()
    {
        var option = new Option<string>("--device")
        {
            Description = "Where ONNX Runtime runs the model: cpu (default) or cuda (needs a build with -p:OnnxRuntimeFlavour=Gpu and CUDA 13 + cuDNN 9 on the host; never falls back to cpu).",
            DefaultValueFactory = _ => "cpu",
        };
        option.AcceptOnlyFromAmong("cpu", "cuda");
        return option;
    }

    /// <summary>Session options for a <c>--device</c> value.</summary>
    public static OnnxSessionOptions SessionOptions(string? device, int intraOpThreads) => new()
    {
        IntraOpThreads = intraOpThreads,
        UseCuda = string.Equals(device, "cuda", StringComparison.OrdinalIgnoreCase),
    };

    /// <summary>True for the exceptions that mean "this model cannot be used here", which commands report in one line.</summary>
    public static bool IsModelUnusable(Exception e) => e is ModelPackageException or OnnxRuntimeException;

    /// <summary>Prints one line naming the kind of failure and returns <see cref="ModelUnusableExitCode"/>.</summary>
    public static int ReportModelUnusable(Exception e, string? what = null)
    {
        var kind = Kind(e);
        // Redirected (a log, a supervisor): one plain line, never wrapped at a console width.
        if (Console.IsErrorRedirected)
        {
            Console.Error.WriteLine($"model unusable ({kind}): {OneLine(e, what)}");
        }
        else
        {
            CliHelpers.Stderr.MarkupLine($"[red]model unusable ({kind}):[/] {Markup.Escape(OneLine(e, what))}");
        }

        return ModelUnusableExitCode;
    }

    /// <summary>What kind of "unusable" this is, in a few words.</summary>
    public static string Kind(Exception e) => e switch
    {
        OnnxRuntimeNotFoundException => "ONNX Runtime not found",
        OnnxRuntimeException { ErrorCode: OnnxErrorCode.ExecutionProviderFailure } => "execution provider unavailable",
        OnnxRuntimeException => "ONNX Runtime error",
        ModelPackageException => "invalid model package",
        _ => "model unavailable",
    };

    public static string OneLine(Exception e, string? what = null)
    {
        var text = e is ModelPackageException { Problems.Count: > 0 } p
            ? $"{p.PackageSource}: {string.Join("; ", p.Problems)}"
            : CliHelpers.PlainMessage(e);
        text = string.Join(' ', text.Split((char[])['\n', '\r'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries));
        // An alert folder taken as a package: most often the alert paths written after an option that takes packages
        // and every value after it (bench pipeline --shadow ALERTS said only that model.json and model.onnx were missing).
        if (e is ModelPackageException { PackageSource: { } source } && HoldsAlertFiles(source))
        {
            text += "; it holds alert files, not a model package (an option that takes packages, such as --shadow, takes every path after it: give the alert paths before it)";
        }

        // A message that already starts with the path (ModelIo's "DIR: …") is not prefixed with it twice.
        return what is null || text.StartsWith(what + ":", StringComparison.Ordinal) ? text : what + ": " + text;
    }

    private static bool HoldsAlertFiles(string path)
    {
        try
        {
            return Directory.Exists(path)
                && !File.Exists(Path.Combine(path, "model.json"))
                && Directory.EnumerateFiles(path, "*", new EnumerationOptions { RecurseSubdirectories = true, IgnoreInaccessible = true, MaxRecursionDepth = 3 })
                    .Any(AlertBroker.Alerts.Archives.AlertArchiveReader.IsAlertFile);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            return false;
        }
    }
}
