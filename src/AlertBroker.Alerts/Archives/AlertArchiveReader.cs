using System.Buffers;
using System.IO.Compression;

namespace AlertBroker.Alerts.Archives;

/// <summary>
/// Reads alert messages from files, directories (recursively) and ZTF-style nightly <c>.tar.gz</c>
/// archives, streamed without extracting to disk. A source that cannot be read yields one input with
/// an <see cref="AlertInput.Error"/> and the rest carry on.
/// </summary>
public static class AlertArchiveReader
{
    /// <summary>Largest single message or archive entry read into memory.</summary>
    public const int MaxMessageBytes = 256 * 1024 * 1024;

    private const int TarBlock = 512;

    /// <summary>True for the file names treated as tar archives.</summary>
    public static bool IsArchive(string path) =>
        path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);

    /// <summary>The files a directory contributes: Avro files and archives, in a stable order.</summary>
    public static IEnumerable<string> ExpandDirectory(string directory)
    {
        var files = Directory.GetFiles(directory, "*", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var f in files)
        {
            if (f.EndsWith(".avro", StringComparison.OrdinalIgnoreCase) || IsArchive(f))
            {
                yield return f;
            }
        }
    }

    /// <summary>Every message under the given paths (files, directories, archives), in order.</summary>
    public static IEnumerable<AlertInput> Read(IEnumerable<string> paths, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(paths);
        var buffer = new PooledBuffer();
        try
        {
            foreach (var path in paths)
            {
                if (Directory.Exists(path))
                {
                    foreach (var file in ExpandDirectory(path))
                    {
                        foreach (var input in ReadFile(file, buffer, cancellationToken))
                        {
                            yield return input;
                        }
                    }
                }
                else
                {
                    foreach (var input in ReadFile(path, buffer, cancellationToken))
                    {
                        yield return input;
                    }
                }
            }
        }
        finally
        {
            buffer.Dispose();
        }
    }

    private static IEnumerable<AlertInput> ReadFile(string path, PooledBuffer buffer, CancellationToken cancellationToken)
    {
        cancellationToken.ThrowIfCancellationRequested();
        if (IsArchive(path))
        {
            foreach (var input in ReadTar(path, buffer, cancellationToken))
            {
                yield return input;
            }

            yield break;
        }

        AlertFormatException? error = null;
        var length = 0;
        try
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            if (!stream.CanSeek)
            {
                // A pipe (a shell's <(…), /dev/stdin, a FIFO) has no length to ask for ("Stream does not support
                // seeking", exit 70): it is read to its end, up to the same limit.
                length = ReadToEnd(stream, buffer);
                if (length < 0)
                {
                    length = 0;
                    error = new AlertFormatException(AlertErrorKind.Archive, $"{path}: over the {MaxMessageBytes}-byte message limit");
                }
            }
            else if (stream.Length > MaxMessageBytes)
            {
                error = new AlertFormatException(AlertErrorKind.Archive, $"{path}: {stream.Length} bytes is over the {MaxMessageBytes}-byte message limit");
            }
            else
            {
                length = (int)stream.Length;
                stream.ReadExactly(buffer.Get(length), 0, length);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            error = new AlertFormatException(AlertErrorKind.Archive, $"{path}: {e.Message}", -1, e);
        }

        yield return error is null
            ? new AlertInput(path, buffer.Memory(length))
            : new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
    }

    // The bytes of a stream without a length, in the pooled buffer; -1 past MaxMessageBytes.
    private static int ReadToEnd(Stream stream, PooledBuffer buffer)
    {
        var array = buffer.Get(0);
        var length = 0;
        while (true)
        {
            if (length == array.Length)
            {
                if (length > MaxMessageBytes)
                {
                    return -1;
                }

                array = buffer.Grow(length, (int)Math.Min(2L * length, MaxMessageBytes + 1L));
            }

            var n = stream.Read(array, length, array.Length - length);
            if (n == 0)
            {
                return length;
            }

            length += n;
            if (length > MaxMessageBytes)
            {
                return -1;
            }
        }
    }

    private static IEnumerable<AlertInput> ReadTar(string path, PooledBuffer buffer, CancellationToken cancellationToken)
    {
        Stream? stream = null;
        AlertFormatException? openError = null;
        try
        {
            var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
            stream = path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            openError = new AlertFormatException(AlertErrorKind.Archive, $"{path}: {e.Message}", -1, e);
        }

        if (openError is not null)
        {
            yield return new AlertInput(path, ReadOnlyMemory<byte>.Empty, openError);
            yield break;
        }

        using (stream)
        {
            var tar = new TarEntryReader(stream!);
            while (true)
            {
                cancellationToken.ThrowIfCancellationRequested();
                TarEntry entry;
                AlertFormatException? error = null;
                try
                {
                    if (!tar.TryReadNext(buffer, out entry))
                    {
                        yield break;
                    }
                }
                catch (Exception e) when (e is IOException or InvalidDataException or FormatException or EndOfStreamException)
                {
                    error = new AlertFormatException(AlertErrorKind.Archive, $"{path}: corrupt archive after {tar.EntriesRead} entries: {e.Message}", tar.Position, e);
                    entry = default;
                }

                if (error is not null)
                {
                    yield return new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
                    yield break;
                }

                if (entry.Name.EndsWith(".avro", StringComparison.OrdinalIgnoreCase))
                {
                    yield return entry.TooLarge
                        ? new AlertInput(path + "!" + entry.Name, ReadOnlyMemory<byte>.Empty, new AlertFormatException(AlertErrorKind.Archive, $"{entry.Name}: entry over the {MaxMessageBytes}-byte limit"))
                        : new AlertInput(path + "!" + entry.Name, buffer.Memory(entry.Length));
                }
            }
        }
    }

    private readonly record struct TarEntry(string Name, int Length, bool TooLarge);

    /// <summary>A minimal streaming reader of POSIX ustar / GNU tar: regular files only, long names supported.</summary>
    private sealed class TarEntryReader(Stream stream)
    {
        private readonly byte[] _header = new byte[TarBlock];
        private string? _longName;

        public int EntriesRead { get; private set; }

        public long Position { get; private set; }

        public bool TryReadNext(PooledBuffer buffer, out TarEntry entry)
        {
            while (true)
            {
                if (!ReadBlock(_header))
                {
                    entry = default;
                    return false;
                }

                if (_header.AsSpan().IndexOfAnyExcept((byte)0) < 0)
                {
                    // End-of-archive marker (two zero blocks; one is enough to stop).
                    entry = default;
                    return false;
                }

                VerifyChecksum();
                var size = ParseSize(_header.AsSpan(124, 12));
                var type = (char)_header[156];
                var name = _longName ?? ParseName();
                _longName = null;
                var padded = (size + TarBlock - 1) / TarBlock * TarBlock;

                if (type == 'L')
                {
                    // GNU long name: the data is the next entry's name.
                    if (size > 64 * 1024)
                    {
                        throw new InvalidDataException($"long name of {size} bytes");
                    }

                    var nameBytes = new byte[padded];
                    stream.ReadExactly(nameBytes);
                    Position += padded;
                    _longName = System.Text.Encoding.UTF8.GetString(nameBytes, 0, (int)size).TrimEnd('\0');
                    continue;
                }

                if (type is not ('0' or '\0' or '7'))
                {
                    Skip(padded);
                    continue;
                }

                EntriesRead++;
                if (size > MaxMessageBytes || !name.EndsWith(".avro", StringComparison.OrdinalIgnoreCase))
                {
                    Skip(padded);
                    entry = new TarEntry(name, 0, size > MaxMessageBytes);
                    return true;
                }

                var data = buffer.Get((int)padded);
                stream.ReadExactly(data, 0, (int)padded);
                Position += padded;
                entry = new TarEntry(name, (int)size, false);
                return true;
            }
        }

        private bool ReadBlock(byte[] block)
        {
            var read = stream.ReadAtLeast(block, TarBlock, throwOnEndOfStream: false);
            if (read == 0)
            {
                return false;
            }

            if (read < TarBlock)
            {
                throw new EndOfStreamException($"truncated tar header ({read} of {TarBlock} bytes)");
            }

            Position += TarBlock;
            return true;
        }

        private void Skip(long bytes)
        {
            var scratch = ArrayPool<byte>.Shared.Rent(64 * 1024);
            try
            {
                while (bytes > 0)
                {
                    var n = (int)Math.Min(bytes, scratch.Length);
                    stream.ReadExactly(scratch, 0, n);
                    bytes -= n;
                    Position += n;
                }
            }
            finally
            {
                ArrayPool<byte>.Shared.Return(scratch);
            }
        }

        private void VerifyChecksum()
        {
            var stored = ParseOctal(_header.AsSpan(148, 8));
            long sum = 0;
            for (var i = 0; i < TarBlock; i++)
            {
                sum += i is >= 148 and < 156 ? (byte)' ' : _header[i];
            }

            if (sum != stored)
            {
                throw new InvalidDataException($"tar header checksum mismatch (stored {stored}, computed {sum})");
            }
        }

        private string ParseName()
        {
            var name = CString(_header.AsSpan(0, 100));
            var isUstar = _header.AsSpan(257, 5).SequenceEqual("ustar"u8);
            var prefix = isUstar ? CString(_header.AsSpan(345, 155)) : string.Empty;
            return prefix.Length > 0 ? prefix + "/" + name : name;
        }

        private static string CString(ReadOnlySpan<byte> field)
        {
            var end = field.IndexOf((byte)0);
            return System.Text.Encoding.UTF8.GetString(end < 0 ? field : field[..end]);
        }

        private static long ParseSize(ReadOnlySpan<byte> field)
        {
            if ((field[0] & 0x80) != 0)
            {
                // GNU base-256 for sizes over 8 GiB.
                long value = field[0] & 0x7F;
                for (var i = 1; i < field.Length; i++)
                {
                    if (value > (long.MaxValue >> 8))
                    {
                        throw new InvalidDataException("tar entry size overflows");
                    }

                    value = (value << 8) | field[i];
                }

                return value;
            }

            return ParseOctal(field);
        }

        private static long ParseOctal(ReadOnlySpan<byte> field)
        {
            long value = 0;
            var i = 0;
            while (i < field.Length && field[i] == ' ')
            {
                i++;
            }

            for (; i < field.Length; i++)
            {
                var c = field[i];
                if (c is 0 or (byte)' ')
                {
                    break;
                }

                if (c is < (byte)'0' or > (byte)'7' || value > (long.MaxValue >> 3))
                {
                    throw new InvalidDataException("invalid octal number in tar header");
                }

                value = (value << 3) | (uint)(c - '0');
            }

            return value;
        }
    }

    /// <summary>One growing buffer reused for every message of an enumeration.</summary>
    private sealed class PooledBuffer : IDisposable
    {
        private byte[] _array = ArrayPool<byte>.Shared.Rent(128 * 1024);

        public byte[] Get(int length)
        {
            if (_array.Length < length)
            {
                ArrayPool<byte>.Shared.Return(_array);
                _array = ArrayPool<byte>.Shared.Rent(length);
            }

            return _array;
        }

        /// <summary>A larger array holding the first <paramref name="used"/> bytes of the current one.</summary>
        public byte[] Grow(int used, int length)
        {
            var larger = ArrayPool<byte>.Shared.Rent(length);
            _array.AsSpan(0, used).CopyTo(larger);
            ArrayPool<byte>.Shared.Return(_array);
            _array = larger;
            return _array;
        }

        public ReadOnlyMemory<byte> Memory(int length) => _array.AsMemory(0, length);

        public void Dispose() => ArrayPool<byte>.Shared.Return(_array);
    }
}
