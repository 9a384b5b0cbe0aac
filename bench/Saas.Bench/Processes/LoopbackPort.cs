using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Saas.Bench.Processes;

public static class LoopbackPort
{
    private const string Listen = "0A";
    private static readonly string[] Tables = ["/proc/net/tcp", "/proc/net/tcp6"];

    /// <summary>A port on 127.0.0.1 that was free a moment ago.</summary>
    public static int Free()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The addresses listening on TCP <paramref name="port"/>, from the kernel's tables (/proc/net/tcp and tcp6).</summary>
    public static IReadOnlyList<IPAddress> ListeningAddresses(int port) =>
        Tables.SelectMany(table => File.ReadLines(table).Skip(1))
            .Select(line => line.Split(' ', StringSplitOptions.RemoveEmptyEntries))
            .Where(fields => fields[3] == Listen && int.Parse(fields[1].Split(':')[1], NumberStyles.HexNumber) == port)
            .Select(fields => Address(fields[1].Split(':')[0]))
            .ToList();

    /// <summary>The kernel prints an address as 32-bit words in host (little-endian) order, each as hex.</summary>
    private static IPAddress Address(string hex)
    {
        var bytes = Convert.FromHexString(hex);
        for (var word = 0; word < bytes.Length; word += 4)
        {
            Array.Reverse(bytes, word, 4);
        }
        return new IPAddress(bytes);
    }
}
