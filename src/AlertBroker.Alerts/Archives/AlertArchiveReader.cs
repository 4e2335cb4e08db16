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

    // The buffer size a streamed message starts with (ReadStreamed and ReadToEnd ask the same, so get the same array).
    private const int ReadToEndStart = 64 * 1024;

    /// <summary>True for the file names treated as tar archives.</summary>
    public static bool IsArchive(string path) =>
        path.EndsWith(".tar.gz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".tgz", StringComparison.OrdinalIgnoreCase)
        || path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase);

    /// <summary>True for a gzip-compressed alert file (<c>.avro.gz</c>): read decompressed, as one message (or as a tar archive when it holds one).</summary>
    public static bool IsCompressedMessage(string path) => path.EndsWith(".avro.gz", StringComparison.OrdinalIgnoreCase);

    /// <summary>The files a directory contributes: Avro files (<c>.avro</c>, <c>.avro.gz</c>) and archives, in a stable order.</summary>
    public static IEnumerable<string> ExpandDirectory(string directory)
    {
        var files = Directory.GetFiles(directory, "*", SearchOption.AllDirectories);
        Array.Sort(files, StringComparer.Ordinal);
        foreach (var f in files)
        {
            if (f.EndsWith(".avro", StringComparison.OrdinalIgnoreCase) || IsCompressedMessage(f) || IsArchive(f))
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
                        // A pipe, socket or device named like an alert file inside a directory would block the whole read
                        // (opening a FIFO waits for a writer) or never end (a device): named on the command line it is read
                        // as a stream, found in a directory it is a file that cannot be read.
                        if (FileType.Of(file) is var kind and not (FileKind.Regular or FileKind.Unknown))
                        {
                            yield return new AlertInput(file, ReadOnlyMemory<byte>.Empty, new AlertFormatException(
                                AlertErrorKind.Archive, $"{FileType.Describe(kind)}, not a regular file: inside a directory only regular files are read"));
                            continue;
                        }

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
            foreach (var input in ReadTar(path, null, buffer, cancellationToken))
            {
                yield return input;
            }

            yield break;
        }

        AlertFormatException? error = null;
        var length = 0;
        Stream? archive = null;
        try
        {
            var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1, FileOptions.SequentialScan);
            try
            {
                if (!stream.CanSeek || stream.Length == 0 || IsCompressedMessage(path))
                {
                    // A pipe (`inspect /dev/stdin`, a shell's `<(zcat …)`, `curl … |`) or a device has no length to read up
                    // front (seeking fails, or it says 0) and no name to go by: what it holds says what it is. An .avro.gz
                    // is read the same way (decompressed; it was skipped in a directory and "not an Avro message" alone).
                    archive = ReadStreamed(path, stream, buffer, out length, out error);
                }
                else if (stream.Length > MaxMessageBytes)
                {
                    error = new AlertFormatException(AlertErrorKind.Archive, $"{stream.Length} bytes is over the {MaxMessageBytes}-byte message limit");
                }
                else
                {
                    length = (int)stream.Length;
                    stream.ReadExactly(buffer.Get(length), 0, length);
                }
            }
            finally
            {
                if (archive is null)
                {
                    stream.Dispose();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error = new AlertFormatException(AlertErrorKind.Archive, e.Message, -1, e);
        }

        if (archive is not null)
        {
            foreach (var input in ReadTar(path, archive, buffer, cancellationToken))
            {
                yield return input;
            }

            yield break;
        }

        yield return error is null
            ? new AlertInput(path, buffer.Memory(length))
            : new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
    }

    /// <summary>
    /// A pipe, device or <c>.avro.gz</c>: gzip-compressed data is decompressed; a tar archive (ustar magic at byte 257) is returned to be read
    /// entry by entry (a nightly archive straight from <c>curl</c>, never held whole); anything else is read to its end as
    /// one message, at most <see cref="MaxMessageBytes"/>.
    /// </summary>
    private static Stream? ReadStreamed(string path, Stream stream, PooledBuffer buffer, out int length, out AlertFormatException? error)
    {
        error = null;
        length = 0;
        Span<byte> head = stackalloc byte[TarBlock];
        var seen = ReadAtMost(stream, head);
        Stream source = stream;
        if (seen >= 2 && head[0] == 0x1f && head[1] == 0x8b)
        {
            source = new GZipStream(new PrefixedStream(head[..seen].ToArray(), stream), CompressionMode.Decompress);
            seen = ReadAtMost(source, head);
        }

        if (seen == TarBlock && head.Slice(257, 5).SequenceEqual("ustar"u8))
        {
            return new PrefixedStream(head.ToArray(), source);
        }

        head[..seen].CopyTo(buffer.Get(ReadToEndStart));
        length = ReadToEnd(source, buffer, seen);
        if (!ReferenceEquals(source, stream))
        {
            source.Dispose();
        }

        if (length > MaxMessageBytes)
        {
            error = new AlertFormatException(AlertErrorKind.Archive, $"more than the {MaxMessageBytes}-byte message limit (a stream without an end?)");
            length = 0;
        }

        return null;
    }

    // Reads until the span is full or the stream ends; returns the bytes read.
    private static int ReadAtMost(Stream stream, Span<byte> into)
    {
        var read = 0;
        while (read < into.Length)
        {
            var n = stream.Read(into[read..]);
            if (n == 0)
            {
                break;
            }

            read += n;
        }

        return read;
    }

    // Reads the stream to its end into the buffer after the first `already` bytes there, growing it up to MaxMessageBytes.
    // Returns the bytes held, or MaxMessageBytes + 1 when there is more than that.
    private static int ReadToEnd(Stream stream, PooledBuffer buffer, int already)
    {
        var length = already;
        var array = buffer.Get(ReadToEndStart); // the array the first `already` bytes were put in: same size asked, same array
        while (true)
        {
            var room = Math.Min(array.Length, MaxMessageBytes);
            if (length == room)
            {
                if (room == MaxMessageBytes)
                {
                    Span<byte> probe = stackalloc byte[1];
                    return stream.Read(probe) == 0 ? length : MaxMessageBytes + 1;
                }

                array = buffer.Grow(length, Math.Min(length * 2, MaxMessageBytes));
                room = Math.Min(array.Length, MaxMessageBytes);
            }

            var read = stream.Read(array, length, room - length);
            if (read == 0)
            {
                return length;
            }

            length += read;
        }
    }

    private static IEnumerable<AlertInput> ReadTar(string path, Stream? opened, PooledBuffer buffer, CancellationToken cancellationToken)
    {
        Stream? stream = opened;
        AlertFormatException? openError = null;
        try
        {
            if (stream is not null)
            {
                // Opened and decompressed by the caller (a pipe).
            }
            else
            {
                var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                stream = path.EndsWith(".tar", StringComparison.OrdinalIgnoreCase) ? file : new GZipStream(file, CompressionMode.Decompress);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            openError = new AlertFormatException(AlertErrorKind.Archive, e.Message, -1, e);
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
                    error = new AlertFormatException(AlertErrorKind.Archive, $"corrupt archive after {tar.EntriesRead} entries: {e.Message}", tar.Position, e);
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
                        ? new AlertInput(path + "!" + entry.Name, ReadOnlyMemory<byte>.Empty, new AlertFormatException(AlertErrorKind.Archive, $"entry over the {MaxMessageBytes}-byte limit"))
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
    /// <summary>A read-only stream of some bytes already read, then the rest of the stream they came from.</summary>
    private sealed class PrefixedStream(byte[] prefix, Stream rest) : ReadOnlyStream
    {
        private int _position;

        public override int Read(Span<byte> buffer)
        {
            if (_position < prefix.Length)
            {
                var n = Math.Min(buffer.Length, prefix.Length - _position);
                prefix.AsSpan(_position, n).CopyTo(buffer);
                _position += n;
                return n;
            }

            return rest.Read(buffer);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                rest.Dispose();
            }

            base.Dispose(disposing);
        }
    }

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
