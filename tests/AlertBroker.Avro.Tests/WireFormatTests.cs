using System.Buffers;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace AlertBroker.Avro.Tests;

public class WireFormatTests
{
    [Fact]
    public void ConfluentHeader_RoundTrips()
    {
        var buffer = new ArrayBufferWriter<byte>();
        ConfluentWireFormat.WriteHeader(buffer, 0x01020304);
        Assert.Equal(new byte[] { 0, 1, 2, 3, 4 }, buffer.WrittenSpan.ToArray());
        Assert.True(ConfluentWireFormat.TryReadHeader(buffer.WrittenSpan, out var id));
        Assert.Equal(0x01020304, id);
        Assert.False(ConfluentWireFormat.TryReadHeader(new byte[] { 1, 0, 0, 0, 1 }, out _));
        Assert.False(ConfluentWireFormat.TryReadHeader(new byte[] { 0, 0, 0 }, out _));
    }

    [Fact]
    public void SingleObjectEncoding_RoundTripsAndUsesFingerprint()
    {
        var schema = TestUtil.Record("""{"type":"record","name":"P","fields":[{"name":"x","type":"int"}]}""");
        var datum = new GenericRecord(schema) { ["x"] = 5 };
        var bytes = SingleObjectEncoding.Encode(schema, datum);
        Assert.Equal(0xC3, bytes[0]);
        Assert.Equal(0x01, bytes[1]);
        Assert.True(SingleObjectEncoding.TryReadHeader(bytes, out var fp));
        Assert.Equal(schema.Fingerprint, fp);
        Assert.Equal(datum, SingleObjectEncoding.Decode(bytes, f => f == schema.Fingerprint ? schema : null));
        Assert.Throws<AvroSchemaLookupException>(() => SingleObjectEncoding.Decode(bytes, _ => null));

        var intHeader = new ArrayBufferWriter<byte>();
        SingleObjectEncoding.WriteHeader(intHeader, AvroSchema.Int.Fingerprint);
        Assert.Equal(new byte[] { 0xC3, 0x01, 0x8F, 0x5C, 0x39, 0x3F, 0x1A, 0xD5, 0x75, 0x72 }, intHeader.WrittenSpan.ToArray());
    }

    [Fact]
    public async Task DirectoryLookup_FindsIdFilesAndSharedTypes()
    {
        var dir = Directory.CreateTempSubdirectory("avro-dir-");
        try
        {
            File.WriteAllText(Path.Combine(dir.FullName, "types.avsc"), """{"type":"fixed","name":"q.Hash","size":4}""");
            File.WriteAllText(Path.Combine(dir.FullName, "1.avsc"), """{"type":"record","name":"q.A","fields":[{"name":"h","type":"q.Hash"}]}""");
            File.WriteAllText(Path.Combine(dir.FullName, "2-alert-v2.avsc"), """{"type":"record","name":"q.A","fields":[{"name":"h","type":"q.Hash"},{"name":"n","type":"int"}]}""");
            var lookup = new DirectorySchemaLookup(dir.FullName);
            var one = (RecordSchema)await lookup.GetSchemaAsync(1);
            var two = (RecordSchema)await lookup.GetSchemaAsync(2);
            Assert.Single(one.Fields);
            Assert.Equal(2, two.Fields.Count);
            Assert.Same(one.Fields[0].Schema, two.Fields[0].Schema);
            Assert.Same(one, await lookup.GetSchemaAsync(1));
            var ex = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(3));
            Assert.Contains("3", ex.Message, StringComparison.Ordinal);
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task RegistryLookup_SuccessNotFoundCachingAndSingleFlight()
    {
        await using var server = new TinyHttpServer(async (path, respond) =>
        {
            if (path == "/schemas/ids/7")
            {
                await Task.Delay(150);
                await respond(200, """{"schema":"{\"type\":\"record\",\"name\":\"S\",\"fields\":[{\"name\":\"a\",\"type\":\"int\"}]}"}""");
            }
            else
            {
                await respond(404, """{"error_code":40403,"message":"Schema not found"}""");
            }
        });

        using var lookup = new SchemaRegistryLookup(server.BaseAddress);
        var tasks = Enumerable.Range(0, 8).Select(_ => lookup.GetSchemaAsync(7).AsTask()).ToArray();
        var schemas = await Task.WhenAll(tasks);
        Assert.All(schemas, s => Assert.Same(schemas[0], s));
        Assert.Equal("S", ((RecordSchema)schemas[0]).FullName);
        Assert.Equal(1, server.RequestCount);
        Assert.Same(schemas[0], await lookup.GetSchemaAsync(7));
        Assert.Equal(1, server.RequestCount);

        var ex = await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(8));
        Assert.Contains("404", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Schema not found", ex.Message, StringComparison.Ordinal);

        // Failures are not cached.
        await Assert.ThrowsAsync<AvroSchemaLookupException>(async () => await lookup.GetSchemaAsync(8));
        Assert.Equal(3, server.RequestCount);
    }

    /// <summary>A minimal HTTP/1.1 server on 127.0.0.1 answering one request per connection.</summary>
    private sealed class TinyHttpServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly Func<string, Func<int, string, Task>, Task> _handler;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _loop;
        private int _requests;

        public TinyHttpServer(Func<string, Func<int, string, Task>, Task> handler)
        {
            _handler = handler;
            _listener.Start();
            BaseAddress = new Uri($"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}/");
            _loop = Task.Run(AcceptLoop);
        }

        public Uri BaseAddress { get; }

        public int RequestCount => Volatile.Read(ref _requests);

        private async Task AcceptLoop()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync(_stop.Token);
                }
                catch (Exception)
                {
                    return;
                }

                _ = Task.Run(() => Serve(client));
            }
        }

        private async Task Serve(TcpClient client)
        {
            using (client)
            {
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.ASCII);
                var requestLine = await reader.ReadLineAsync() ?? string.Empty;
                while (!string.IsNullOrEmpty(await reader.ReadLineAsync()))
                {
                }

                Interlocked.Increment(ref _requests);
                var path = requestLine.Split(' ').ElementAtOrDefault(1) ?? "/";
                await _handler(path, async (status, body) =>
                {
                    var payload = Encoding.UTF8.GetBytes(body);
                    var head = $"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {payload.Length}\r\nConnection: close\r\n\r\n";
                    await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                    await stream.WriteAsync(payload);
                });
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (OperationCanceledException)
            {
            }

            _stop.Dispose();
        }
    }
}
