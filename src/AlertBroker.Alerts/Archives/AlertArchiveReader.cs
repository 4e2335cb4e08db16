using System.Buffers;
using System.Formats.Tar;
using System.IO.Compression;
using AlertBroker.Avro;

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

    /// <summary>
    /// An Avro container file larger than this (a night of simulated alerts in one file, a concatenated archive) is not read
    /// whole: it is cut at block boundaries into messages of about <see cref="ContainerChunkBytes"/>, each the file's own
    /// header followed by whole blocks, so a file of any size is read in bounded memory. Piped and <c>.avro.gz</c>
    /// containers are always read this way (a small one is then one message, byte for byte the file).
    /// </summary>
    public const long SplitContainersAbove = 16 * 1024 * 1024;

    /// <summary>About how many bytes of blocks each message cut from a large container holds (a larger single block is its own message).</summary>
    public const int ContainerChunkBytes = 16 * 1024 * 1024;

    // The most bytes a container header (magic, metadata with the schema, sync marker) may take.
    private const int MaxContainerHeaderBytes = 16 * 1024 * 1024;

    // The length of a container's sync marker, which ends its header and every block.
    private const int SyncLength = 16;

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

    /// <summary>True for the file names a directory contributes (<see cref="ExpandDirectory"/>): <c>.avro</c>, <c>.avro.gz</c> and archives.</summary>
    public static bool IsAlertFile(string path) =>
        path.EndsWith(".avro", StringComparison.OrdinalIgnoreCase) || IsCompressedMessage(path) || IsArchive(path);

    /// <summary>
    /// The files a directory contributes: Avro files (<c>.avro</c>, <c>.avro.gz</c>) and archives, in a stable order. Links
    /// to directories are followed, but every directory is read once: one reached again (a link to itself or to a parent,
    /// or two links to one directory) is skipped. Before, a link loop was followed until the system refused the path
    /// (40 levels): a directory holding one alert and a link to itself replayed it 41 times.
    /// </summary>
    public static IEnumerable<string> ExpandDirectory(string directory)
    {
        var files = new List<string>();
        Walk(directory, files, new HashSet<string>(StringComparer.Ordinal));
        files.Sort(StringComparer.Ordinal);
        foreach (var f in files)
        {
            if (IsAlertFile(f))
            {
                yield return f;
            }
        }
    }

    // `directory` is the path as reached from the given one (what is listed); a directory is known by its device and inode,
    // whatever the path (the full path where they cannot be asked: not Linux).
    private static void Walk(string directory, List<string> files, HashSet<string> visited)
    {
        var identity = FileType.IdentityOf(directory);
        if (!visited.Add(identity is { } id ? $"{id.Device}:{id.Inode}" : Path.GetFullPath(directory)))
        {
            return;
        }

        files.AddRange(Directory.GetFiles(directory));
        var subs = Directory.GetDirectories(directory);
        Array.Sort(subs, StringComparer.Ordinal); // a directory reached two ways is listed under the first in this order
        foreach (var sub in subs)
        {
            Walk(sub, files, visited);
        }
    }

    /// <summary>Every message under the given paths (files, directories, archives), in order.</summary>
    public static IEnumerable<AlertInput> Read(IEnumerable<string> paths, CancellationToken cancellationToken = default) =>
        Read(paths, new ContainerSplit(SplitContainersAbove, ContainerChunkBytes), cancellationToken);

    /// <summary>As <see cref="Read(IEnumerable{string}, CancellationToken)"/>, with other sizes for cutting large containers (tests).</summary>
    internal static IEnumerable<AlertInput> Read(IEnumerable<string> paths, ContainerSplit split, CancellationToken cancellationToken = default)
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

                        foreach (var input in ReadFile(file, buffer, split, cancellationToken))
                        {
                            yield return input;
                        }
                    }
                }
                else
                {
                    foreach (var input in ReadFile(path, buffer, split, cancellationToken))
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

    private static IEnumerable<AlertInput> ReadFile(string path, PooledBuffer buffer, ContainerSplit split, CancellationToken cancellationToken)
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
        Stream? opened = null;
        var kind = StreamKind.Message;
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
                    (opened, kind) = ReadStreamed(stream, buffer, out length, out error);
                }
                else if (stream.Length > split.Above && StartsWithContainerMagic(stream))
                {
                    opened = stream;
                    kind = StreamKind.Container;
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
                if (opened is null)
                {
                    stream.Dispose();
                }
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            error = new AlertFormatException(AlertErrorKind.Archive, e.Message, -1, e);
        }

        if (opened is not null)
        {
            var inputs = kind == StreamKind.Tar ? ReadTar(path, opened, buffer, cancellationToken) : ReadContainer(path, opened, buffer, split.ChunkBytes, cancellationToken);
            foreach (var input in inputs)
            {
                yield return input;
            }

            yield break;
        }

        yield return error is null
            ? new AlertInput(path, buffer.Memory(length))
            : new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
    }

    // Reads the first bytes of a seekable file and goes back to its start.
    private static bool StartsWithContainerMagic(FileStream stream)
    {
        Span<byte> head = stackalloc byte[4];
        var seen = ReadAtMost(stream, head);
        stream.Position = 0;
        return AvroContainerReader.IsContainer(head[..seen]);
    }

    /// <summary>
    /// An Avro container file read block by block: its header, then its blocks, each checked (counts and sizes in range,
    /// the sync marker the header's), gathered into messages of about <paramref name="chunkBytes"/> that each start with the
    /// file's header — so each is a container file the decoder reads as it reads any. A file that cannot be read further
    /// (a corrupt block, a truncated end) gives the messages before it, then one error naming the block and the byte.
    /// </summary>
    private static IEnumerable<AlertInput> ReadContainer(string path, Stream opened, PooledBuffer buffer, int chunkBytes, CancellationToken cancellationToken)
    {
        var header = ReadContainerHeader(opened, buffer, out var sync, out var leftover, out var error);
        using var stream = new BufferedStream(new PrefixedStream(leftover, opened), 1 << 16);
        if (header <= 0)
        {
            // A header that cannot be parsed in a stream that ended: the bytes are one message, and the decoder says what is
            // wrong with them as it says for any file; one that goes on past 16 MiB without a whole header is refused here.
            yield return error is null ? new AlertInput(path, buffer.Memory(-header)) : new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
            yield break;
        }

        var length = header; // the header stays at the start of the buffer; each message's blocks follow it
        var offset = (long)header;
        var blocks = 0L;
        var messages = 0;
        var prefix = new byte[20]; // a block's two varints, as read
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            if (!ReadBlockPrefix(stream, prefix, out var prefixLength, out var size, offset, blocks, out error))
            {
                break;
            }

            var blockBytes = prefixLength + size + SyncLength;
            if (header + blockBytes > MaxMessageBytes)
            {
                error = new AlertFormatException(AlertErrorKind.TooLarge, $"container block {blocks + 1} holds {size} bytes: over the {MaxMessageBytes}-byte message limit", offset);
                break;
            }

            if (length > header && length - header + blockBytes > chunkBytes)
            {
                // The message is full: it goes out, and this block starts the next one.
                messages++;
                yield return new AlertInput(path, buffer.Memory(length));
                length = header;
            }

            if (!ReadBlockBody(stream, buffer, ref length, prefix.AsSpan(0, prefixLength), (int)size, sync, offset, blocks, out error))
            {
                break;
            }

            blocks++;
            offset += blockBytes;
        }

        if (length > header || messages == 0)
        {
            // What was read whole goes out (a container without blocks is one message: the decoder says it holds no alerts).
            yield return new AlertInput(path, buffer.Memory(length));
        }

        if (error is not null)
        {
            yield return new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
        }
    }

    // The header into the start of the buffer, parsed (and its schema checked) as the decoder parses it; returns its length.
    // The bytes read past the header (the first blocks') come back in `leftover`. A stream that ends before its header
    // parses gives minus its length (its bytes are in the buffer, to be decoded as one message).
    private static int ReadContainerHeader(Stream stream, PooledBuffer buffer, out byte[] sync, out byte[] leftover, out AlertFormatException? error)
    {
        sync = [];
        leftover = [];
        error = null;
        var size = 64 * 1024;
        var read = 0;
        while (true)
        {
            var array = read == 0 ? buffer.Get(size) : buffer.Grow(read, size);
            try
            {
                read += ReadAtMost(stream, array.AsSpan(read, size - read));
            }
            catch (Exception e) when (e is IOException or InvalidDataException)
            {
                // A pipe that fails, corrupt gzip data around the container.
                error = new AlertFormatException(AlertErrorKind.Archive, e.Message, -1, e);
                return 0;
            }

            try
            {
                var container = AvroContainerReader.Open(array.AsMemory(0, read));
                var length = container.Header.Length;
                sync = container.Header.SyncMarker.ToArray();
                leftover = array.AsSpan(length, read - length).ToArray();
                return length;
            }
            catch (Exception e) when (e is AvroException)
            {
                if (read < size)
                {
                    return -read;
                }

                if (size >= MaxContainerHeaderBytes)
                {
                    error = new AlertFormatException(AlertErrorKind.CorruptAvro, $"no readable container header in the first {MaxContainerHeaderBytes} bytes: {e.Message}", -1, e);
                    return 0;
                }

                size = Math.Min(size * 4, MaxContainerHeaderBytes);
            }
        }
    }

    /// <summary>
    /// A pipe, device or <c>.avro.gz</c>: gzip-compressed data is decompressed; a tar archive (ustar magic at byte 257) is returned to be read
    /// entry by entry (a nightly archive straight from <c>curl</c>, never held whole); anything else is read to its end as
    /// one message, at most <see cref="MaxMessageBytes"/>.
    /// </summary>
    private static (Stream? Opened, StreamKind Kind) ReadStreamed(Stream stream, PooledBuffer buffer, out int length, out AlertFormatException? error)
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
            return (new PrefixedStream(head.ToArray(), source), StreamKind.Tar);
        }

        if (AvroContainerReader.IsContainer(head[..seen]))
        {
            return (new PrefixedStream(head[..seen].ToArray(), source), StreamKind.Container);
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

        return (null, StreamKind.Message);
    }

    /// <summary>When a container file is cut into messages (<see cref="SplitContainersAbove"/>, <see cref="ContainerChunkBytes"/>).</summary>
    internal readonly record struct ContainerSplit(long Above, int ChunkBytes);

    private enum StreamKind
    {
        Message,
        Tar,
        Container,
    }

    // A block's object count and size, their bytes kept as read; false at the end of the file (error null) or when they
    // cannot be read or are out of range (error set).
    private static bool ReadBlockPrefix(Stream stream, byte[] prefix, out int prefixLength, out long size, long offset, long blocks, out AlertFormatException? error)
    {
        prefixLength = 0;
        size = 0;
        error = null;
        try
        {
            if (!ReadVarLong(stream, prefix, ref prefixLength, out var count, endAllowed: true))
            {
                return false;
            }

            if (count < 0 || count > AvroLimits.Default.MaxCollectionItems)
            {
                error = Corrupt(offset, blocks, $"invalid block object count {count}");
                return false;
            }

            ReadVarLong(stream, prefix, ref prefixLength, out size, endAllowed: false);
            if (size < 0)
            {
                error = Corrupt(offset, blocks, $"invalid block size {size}");
                return false;
            }

            return true;
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or FormatException)
        {
            error = StreamError(e, offset, blocks);
            return false;
        }
    }

    // Appends a block (its prefix, data and sync marker) to the message in the buffer, checking the sync marker.
    private static bool ReadBlockBody(Stream stream, PooledBuffer buffer, ref int length, ReadOnlySpan<byte> prefix, int size, byte[] sync, long offset, long blocks, out AlertFormatException? error)
    {
        error = null;
        var end = length + prefix.Length + size + SyncLength;
        var array = buffer.Get(0);
        if (array.Length < end)
        {
            array = buffer.Grow(length, Math.Max(end, (int)Math.Min((long)array.Length * 2, MaxMessageBytes)));
        }

        prefix.CopyTo(array.AsSpan(length));
        try
        {
            stream.ReadExactly(array, length + prefix.Length, size + SyncLength);
        }
        catch (Exception e) when (e is IOException or InvalidDataException or EndOfStreamException or FormatException)
        {
            error = StreamError(e, offset, blocks);
            return false;
        }

        if (!array.AsSpan(end - SyncLength, SyncLength).SequenceEqual(sync))
        {
            error = Corrupt(offset, blocks, "its sync marker does not match the header's");
            return false;
        }

        length = end;
        return true;
    }

    private static AlertFormatException Corrupt(long offset, long blocks, string what) =>
        new(AlertErrorKind.CorruptAvro, $"container block {blocks + 1}: {what}; the {blocks} blocks before it were read", offset);

    private static AlertFormatException StreamError(Exception e, long offset, long blocks) => e is EndOfStreamException
        ? Corrupt(offset, blocks, "the file ends inside it (truncated)")
        : new AlertFormatException(AlertErrorKind.Archive, $"container block {blocks + 1}: {e.Message}; the {blocks} blocks before it were read", offset, e);

    // An Avro long (zig-zag varint), its bytes appended to `bytes`; false at a clean end of stream before its first byte
    // when that is allowed. A stream that ends inside it, or more than ten bytes, throws.
    private static bool ReadVarLong(Stream stream, byte[] bytes, ref int used, out long value, bool endAllowed)
    {
        ulong raw = 0;
        for (var shift = 0; ; shift += 7)
        {
            var b = stream.ReadByte();
            if (b < 0)
            {
                if (shift == 0 && endAllowed)
                {
                    value = 0;
                    return false;
                }

                throw new EndOfStreamException();
            }

            if (shift > 63)
            {
                throw new FormatException("a varint longer than ten bytes");
            }

            bytes[used++] = (byte)b;
            raw |= (ulong)(b & 0x7f) << shift;
            if ((b & 0x80) == 0)
            {
                value = (long)(raw >> 1) ^ -(long)(raw & 1);
                return true;
            }
        }
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
                // A .tar.gz checked against its gzip trailer (CheckedGZipStream): one cut inside its last bytes read whole, exit 0.
                // Compressed or not by its first bytes, not its name: a gzip tar named .tar was "Unable to parse number.", a
                // plain one named .tgz "unsupported compression method", while the same bytes through a pipe read whole.
                var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
                Span<byte> magic = stackalloc byte[2];
                var gzip = ReadAtMost(file, magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
                file.Position = 0;
                stream = gzip ? new CheckedGZipStream(path, file) : file;
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

        // System.Formats.Tar reads ustar, GNU (long names, base-256 sizes) and PAX (a `path` record for a long name: the hand-written
        // reader used before took such an entry's truncated ustar name, so half of a PAX archive's alerts were left out)
        // and checks every header's checksum. Entries are read in turn from the (gzip) stream, never extracted to disk.
        using var tar = new TarReader(stream!, leaveOpen: false);
        var entries = 0;
        while (true)
        {
            cancellationToken.ThrowIfCancellationRequested();
            AlertFormatException? error = null;
            AlertFormatException? entryError = null;
            string? name = null;
            var length = 0;
            try
            {
                var entry = tar.GetNextEntry(copyData: false);
                if (entry is null)
                {
                    // The tar's end blocks: the gzip data after them is read too, so its trailer is checked.
                    stream!.CopyTo(Stream.Null);
                    break;
                }

                if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile or TarEntryType.ContiguousFile)
                {
                    if (IsCompressedMessage(entry.Name))
                    {
                        // An .avro.gz entry is decompressed, as the same file in a directory is (it was left out without a
                        // word: replay of such an archive said 0 alerts, exit 0).
                        // An entry whose gzip is damaged is that entry's error; the archive reads on.
                        name = entry.Name;
                        try
                        {
                            using var gz = new GZipStream(entry.DataStream ?? Stream.Null, CompressionMode.Decompress, leaveOpen: true);
                            length = ReadToEnd(gz, buffer, 0);
                            length = length > MaxMessageBytes ? -1 : length;
                        }
                        catch (InvalidDataException e)
                        {
                            entryError = new AlertFormatException(AlertErrorKind.Archive, "entry is not valid gzip: " + e.Message, -1, e);
                        }
                    }
                    else if (entry.Name.EndsWith(".avro", StringComparison.OrdinalIgnoreCase))
                    {
                        name = entry.Name;
                        if (entry.Length > MaxMessageBytes)
                        {
                            length = -1; // its data is skipped by the next GetNextEntry
                        }
                        else
                        {
                            length = (int)entry.Length;
                            entry.DataStream?.ReadExactly(buffer.Get(length), 0, length);
                        }
                    }

                    // Counted once read whole ("after 21 entries" came with 20 read, the 21st cut).
                    entries++;
                }
            }
            catch (Exception e) when (e is IOException or InvalidDataException or FormatException or EndOfStreamException or ArgumentException)
            {
                error = new AlertFormatException(AlertErrorKind.Archive, $"corrupt archive after {entries} whole entries: {e.Message}", -1, e);
            }

            if (error is not null)
            {
                yield return new AlertInput(path, ReadOnlyMemory<byte>.Empty, error);
                yield break;
            }

            if (entryError is not null)
            {
                yield return new AlertInput(path + "!" + name, ReadOnlyMemory<byte>.Empty, entryError);
            }
            else if (name is not null)
            {
                yield return length < 0
                    ? new AlertInput(path + "!" + name, ReadOnlyMemory<byte>.Empty, new AlertFormatException(AlertErrorKind.Archive, $"entry over the {MaxMessageBytes}-byte limit"))
                    : new AlertInput(path + "!" + name, buffer.Memory(length));
            }
        }
    }

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
