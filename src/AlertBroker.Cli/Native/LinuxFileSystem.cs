using System.Runtime.InteropServices;

namespace AlertBroker.Cli.Native;

/// <summary>A file system call failed; <see cref="Errno"/> is the C library's error number, the message its text.</summary>
internal sealed class NativeFileSystemException(string message, int errno) : IOException(message)
{
    public int Errno { get; } = errno;
}

/// <summary>
/// The two Linux calls .NET 10 does not offer: <c>link(2)</c> (there is no <c>File.CreateHardLink</c>) and
/// <c>renameat2(2)</c> with <c>RENAME_EXCHANGE</c> (glibc 2.28 and later; Debian 12 has 2.36). Each answers "not here"
/// (false) for the errors that mean this system or file system cannot do it, so that the caller takes its slower way, and
/// throws <see cref="NativeFileSystemException"/> with the C library's message for anything else.
/// </summary>
internal static partial class LinuxFileSystem
{
    // glibc's soname: "libc" alone is probed as libc.so, which on a system with libc6-dev is a linker script, not a library.
    private const string LibC = "libc.so.6";
    private const int AtFdCwd = -100;
    private const uint RenameExchange = 2;

    internal const int EPERM = 1;
    internal const int ENOENT = 2;
    internal const int EBUSY = 16;
    internal const int EXDEV = 18;
    internal const int EINVAL = 22;
    internal const int EMLINK = 31;
    internal const int ENOSYS = 38;
    internal const int EOPNOTSUPP = 95;

    /// <summary>
    /// Swaps the two existing paths in one step: each name afterwards refers to what the other did, and no process ever sees
    /// either name missing or half of each. False where the call or the file system lacks the exchange (not Linux, no
    /// <c>renameat2</c> in the C library, <c>EINVAL</c>/<c>ENOSYS</c>/<c>EOPNOTSUPP</c>), the two are on different file systems
    /// (<c>EXDEV</c>) or one is a mount point (<c>EBUSY</c>); nothing moved then.
    /// </summary>
    public static bool TryExchange(string a, string b) =>
        TryCall(() => RenameAt2(AtFdCwd, a, AtFdCwd, b, RenameExchange), static errno => errno is EINVAL or ENOSYS or EOPNOTSUPP or EXDEV or EBUSY, $"cannot swap {a} and {b}");

    /// <summary>
    /// Makes <paramref name="link"/> a second name of the file <paramref name="existing"/> (a symbolic link is linked itself,
    /// not followed). False where the file system or the system's policy refuses hard links (<c>EPERM</c>, <c>EMLINK</c>,
    /// <c>EXDEV</c>, <c>EOPNOTSUPP</c>, not Linux); <see cref="NativeFileSystemException"/> for anything else (an
    /// <c>ENOENT</c> there means <paramref name="existing"/> went meanwhile).
    /// </summary>
    public static bool TryLink(string existing, string link) =>
        TryCall(() => Link(existing, link), static errno => errno is EPERM or EMLINK or EXDEV or EOPNOTSUPP or ENOSYS, $"cannot link {link} to {existing}");

    // The call's result: true when it succeeded, false where it is not to be had (not Linux, not in the C library, an
    // errno that means "not here"), NativeFileSystemException with the C library's message for any other errno.
    private static bool TryCall(Func<int> call, Func<int, bool> unavailable, string what)
    {
        if (!OperatingSystem.IsLinux())
        {
            return false;
        }

        int result;
        try
        {
            result = call();
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return false;
        }

        if (result == 0)
        {
            return true;
        }

        var errno = Marshal.GetLastPInvokeError();
        return unavailable(errno) ? false : throw Failure(what, errno);
    }

    private static NativeFileSystemException Failure(string what, int errno) =>
        new($"{what}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    [LibraryImport(LibC, EntryPoint = "renameat2", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int RenameAt2(int oldDirectory, string oldPath, int newDirectory, string newPath, uint flags);

    [LibraryImport(LibC, EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existing, string link);
}
