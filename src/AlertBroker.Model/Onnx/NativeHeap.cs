using System.Runtime.InteropServices;

namespace AlertBroker.Model.Onnx;

/// <summary>
/// Gives the C heap's free pages back to the system. ONNX Runtime's CPU arena grows with the largest batch a session ran
/// and is freed when the session is released; glibc keeps what <c>free</c> returns in its arenas (it trims only the top of
/// each), so a worker that hot-swaps models kept each released session's arena resident: measured, about +3.5 MB of
/// resident memory per swap, 231 → 574 MB after 100 swaps; 197–254 MB throughout with this trim (docs/performance.md,
/// "Hot swaps and memory"). Called after every session release; a no-op where the C library has no <c>malloc_trim</c>
/// (musl, not Linux).
/// </summary>
public static partial class NativeHeap
{
    // glibc's soname: "libc" alone is probed as libc.so, which on a system with libc6-dev is a linker script, not a library.
    private const string LibC = "libc.so.6";
    private static int _unavailable;

    /// <summary>Returns free C-heap pages to the system; false where this C library cannot (nothing done).</summary>
    public static bool Trim()
    {
        if (!OperatingSystem.IsLinux() || Volatile.Read(ref _unavailable) != 0)
        {
            return false;
        }

        try
        {
            MallocTrim(0);
            return true;
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            Volatile.Write(ref _unavailable, 1);
            return false;
        }
    }

    [LibraryImport(LibC, EntryPoint = "malloc_trim")]
    private static partial int MallocTrim(nuint pad);
}
