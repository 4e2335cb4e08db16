using System.Runtime.InteropServices;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// ONNX Runtime's own usage telemetry, turned off for this process. The Linux build of the package (1.31) carries
/// Microsoft's 1DS client: the first ONNX Runtime environment starts an uploader thread (to
/// <c>mobile.events.data.microsoft.com</c>) and keeps a device id and an SQLite queue of events under
/// <c>~/.cache/Microsoft/DeveloperTools/.onnxruntime</c>; at process exit a C++ static destructor tears that client
/// down while its thread still runs. Seen in CI: a <c>demo</c> that had printed its whole summary aborted with
/// "double free or corruption (fasttop)", exit 134. A worker next to an alert stream has no business calling out or
/// writing a device id into its home directory, so unless the operator set <c>ORT_DISABLE_TELEMETRY</c> (or
/// <c>ORT_TELEMETRY_DISABLED</c>, the name later releases read) themselves, the process environment gets both set to
/// <c>1</c> before the runtime reads them (the library checks when the environment is created): no uploader thread, no
/// cache files, nothing to race at exit.
/// </summary>
public static partial class OnnxTelemetry
{
    /// <summary>The variable the runtime reads (1.31.1's binary).</summary>
    public const string Variable = "ORT_DISABLE_TELEMETRY";

    /// <summary>The name later ONNX Runtime sources read instead: set too, so an upgrade keeps the opt-out.</summary>
    public const string LaterVariable = "ORT_TELEMETRY_DISABLED";

    private const string LibC = "libc.so.6";
    private static readonly string[] s_names = [Variable, LaterVariable];
    private static readonly Lock s_lock = new();
    private static bool s_applied;

    /// <summary>What decided the runtime's telemetry: null until <see cref="TurnOff"/> ran, then a short phrase for logs.</summary>
    public static string? State { get; private set; }

    /// <summary>True when this process set the variable (the operator had not); then telemetry events are also disabled on the environment.</summary>
    public static bool SetByUs { get; private set; }

    /// <summary>
    /// Sets <c>ORT_DISABLE_TELEMETRY=1</c> (and <c>ORT_TELEMETRY_DISABLED=1</c>) in the process environment unless the
    /// operator set either to something (their value, whatever it is, is kept; an empty one is replaced). Idempotent;
    /// call it before the first ONNX Runtime environment, as early in a program as possible (<c>setenv</c> is not safe
    /// against other threads reading the environment at the same moment).
    /// </summary>
    public static void TurnOff()
    {
        lock (s_lock)
        {
            if (s_applied)
            {
                return;
            }

            s_applied = true;
            if (!OperatingSystem.IsLinux())
            {
                State = "not a Linux process: left to the runtime";
                return;
            }

            try
            {
                foreach (var name in s_names)
                {
                    if (GetNative(name) is { Length: > 0 } existing)
                    {
                        State = $"{name}={existing} set by the operator: left as it is";
                        return;
                    }
                }

                // Unset or empty (which the runtime reads as "not disabled").
                foreach (var name in s_names)
                {
                    if (SetEnv(name, "1", 1) != 0)
                    {
                        State = $"{name} could not be set (errno {Marshal.GetLastPInvokeError()}): the runtime's telemetry may run";
                        return;
                    }

                    // The managed copy too, so child processes started from here inherit it.
                    Environment.SetEnvironmentVariable(name, "1");
                }

                SetByUs = true;
                State = $"off ({Variable}=1, {LaterVariable}=1)";
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                State = $"{Variable} could not be set ({e.GetType().Name}): the runtime's telemetry may run";
            }
        }
    }

    /// <summary>The variable's value as the native runtime sees it (getenv), or null when unset or not on Linux.</summary>
    public static string? NativeValue() => OperatingSystem.IsLinux() ? GetNative(Variable) : null;

    private static string? GetNative(string name)
    {
        var value = GetEnv(name);
        return value == 0 ? null : Marshal.PtrToStringUTF8(value);
    }

    [LibraryImport(LibC, EntryPoint = "getenv", StringMarshalling = StringMarshalling.Utf8)]
    private static partial nint GetEnv(string name);

    [LibraryImport(LibC, EntryPoint = "setenv", StringMarshalling = StringMarshalling.Utf8, SetLastError = true)]
    private static partial int SetEnv(string name, string value, int overwrite);
}
