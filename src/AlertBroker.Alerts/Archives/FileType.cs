using System.Buffers.Binary;
using System.Runtime.InteropServices;

namespace AlertBroker.Alerts.Archives;

/// <summary>What a path names, as far as reading it goes (symbolic links followed).</summary>
public enum FileKind
{
    /// <summary>Not known here: not Linux, no <c>statx</c> in the C library, or the call failed (the path gone meanwhile).</summary>
    Unknown,

    /// <summary>A regular file.</summary>
    Regular,

    /// <summary>A directory.</summary>
    Directory,

    /// <summary>A named pipe (FIFO): opening it to read waits until a writer comes.</summary>
    NamedPipe,

    /// <summary>A character device (<c>/dev/zero</c>, a terminal).</summary>
    CharacterDevice,

    /// <summary>A block device.</summary>
    BlockDevice,

    /// <summary>A Unix domain socket (cannot be opened as a file).</summary>
    Socket,
}

/// <summary>
/// The type of a file, which .NET 10 does not tell (<c>FileInfo.Attributes</c> is <c>Normal</c> for a FIFO and a
/// device alike, and opening a FIFO blocks): <c>statx(2)</c> with <c>STATX_TYPE</c> (glibc 2.28 and later; Debian 12 has
/// 2.36). The structure statx fills has one layout on every architecture, so only the offsets of the fields read are needed.
/// </summary>
public static partial class FileType
{
    private const string LibC = "libc.so.6";
    private const int AtFdCwd = -100;
    private const uint StatxType = 0x1;
    private const int StatxSize = 256;
    private const int ModeOffset = 0x1C;
    private const uint StatxIno = 0x100;
    private const int InodeOffset = 0x20;
    private const int DeviceMajorOffset = 0x88;
    private const int DeviceMinorOffset = 0x8C;

    /// <summary>What <paramref name="path"/> names (a symbolic link: what it leads to); <see cref="FileKind.Unknown"/> where that cannot be asked.</summary>
    public static FileKind Of(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            return FileKind.Unknown;
        }

        var buffer = new byte[StatxSize];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxType, buffer) != 0)
            {
                return FileKind.Unknown;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return FileKind.Unknown;
        }

        return (BinaryPrimitives.ReadUInt16LittleEndian(buffer.AsSpan(ModeOffset)) & 0xF000) switch
        {
            0x8000 => FileKind.Regular,
            0x4000 => FileKind.Directory,
            0x1000 => FileKind.NamedPipe,
            0x2000 => FileKind.CharacterDevice,
            0x6000 => FileKind.BlockDevice,
            0xC000 => FileKind.Socket,
            _ => FileKind.Unknown,
        };
    }

    /// <summary>
    /// Which file <paramref name="path"/> is (links followed): its device and inode numbers, the same for every path that
    /// leads to it; null where that cannot be asked (see <see cref="FileKind.Unknown"/>).
    /// </summary>
    public static (ulong Device, ulong Inode)? IdentityOf(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!OperatingSystem.IsLinux())
        {
            return null;
        }

        var buffer = new byte[StatxSize];
        try
        {
            if (Statx(AtFdCwd, path, 0, StatxIno, buffer) != 0 || (BinaryPrimitives.ReadUInt32LittleEndian(buffer) & StatxIno) == 0)
            {
                return null;
            }
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }

        var device = ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(DeviceMajorOffset)) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(buffer.AsSpan(DeviceMinorOffset));
        return (device, BinaryPrimitives.ReadUInt64LittleEndian(buffer.AsSpan(InodeOffset)));
    }

    /// <summary>
    /// "a named pipe", "a character device", … when <paramref name="path"/> leads to something that is not a regular file
    /// (a read of it would wait forever or never end); null for a regular file, or where the type cannot be asked.
    /// </summary>
    public static string? NotRegular(string path) => Of(path) is var kind && kind is FileKind.Regular or FileKind.Unknown ? null : Describe(kind);

    /// <summary>"a named pipe", "a character device", …, for messages.</summary>
    public static string Describe(FileKind kind) => kind switch
    {
        FileKind.Regular => "a regular file",
        FileKind.Directory => "a directory",
        FileKind.NamedPipe => "a named pipe",
        FileKind.CharacterDevice => "a character device",
        FileKind.BlockDevice => "a block device",
        FileKind.Socket => "a socket",
        _ => "of unknown type",
    };

    [LibraryImport(LibC, EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(int directory, string path, int flags, uint mask, [Out] byte[] buffer);
}
