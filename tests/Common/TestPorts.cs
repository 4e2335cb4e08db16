using System.Net;
using System.Net.Sockets;

namespace AlertBroker.Tests.Common;

/// <summary>
/// A loopback port for a server a test starts. The kernel's "port 0" answer lies in the ephemeral range (32768–60999 on
/// Linux), from which every outgoing connection of every process also takes its local port: between the probe and the
/// server's bind, a Redis or Kafka client of a test running beside it took one (a web test failed with "address already
/// in use"). Ports are drawn at random below that range, where no outgoing connection lands, and checked bindable.
/// </summary>
internal static class TestPorts
{
    private const int First = 20_000;
    private const int End = 32_000;

    public static int Free()
    {
        for (var attempt = 0; attempt < 50; attempt++)
        {
            var port = Random.Shared.Next(First, End);
            try
            {
                using var probe = new TcpListener(IPAddress.Loopback, port);
                probe.Start();
                return port;
            }
            catch (SocketException)
            {
                // Taken: another draw.
            }
        }

        // Nothing free below the ephemeral range (unlikely): the kernel's choice.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
