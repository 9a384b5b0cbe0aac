using System.Buffers;
using System.Buffers.Text;
using System.Text;

namespace Saas.Bench.Csv;

/// <summary>
/// Writes a CSV of orders (id,name,qty,price,country) of a given size with a fixed seed: names with accents,
/// some quoted ("Last, First", nicknames in doubled quotes), skewed quantities, log-uniform prices, and
/// country names in mixed case. The same seed always gives the same file.
/// </summary>
public static class OrdersCsvGenerator
{
    private const int Version = 2;
    private const int Seed = 20_261_125;
    private const long FirstOrderId = 10_000_000;

    private static readonly string[] FirstNames =
    [
        "Olivia", "Liam", "Emma", "Noah", "Amelia", "Oliver", "Sophia", "Elijah", "Charlotte", "Mateo", "José", "Zoë", "Søren",
        "Ana María", "Chloé", "Łukasz", "Aiko", "Wei", "Priya", "Mohammed", "Fatima", "Jean-Luc", "Ingrid", "Björn", "Nadia",
        "Kwame", "Lucía", "Hiroshi", "Siobhán", "Dmitri", "Ayesha", "Mei", "Thandiwe", "Grace", "William", "Isabella",
    ];

    private static readonly string[] LastNames =
    [
        "Smith", "Johnson", "Williams", "Brown", "García", "Müller", "O'Brien", "Nguyen", "Kowalski", "Rossi", "Dubois", "Silva",
        "Tanaka", "Kim", "Patel", "Van der Berg", "Schmidt", "Andersson", "Novák", "Fernández", "Okafor", "Ivanova", "Haddad",
        "Murphy", "Jensen", "Papadopoulos", "Yılmaz", "Wójcik", "Lefèvre", "Chen", "Martinez", "Cohen", "Mbeki", "Larsen",
    ];

    private static readonly string[] Countries =
    [
        "Germany", "germany", "France", "United States", "united states", "United Kingdom", "Japan", "brazil", "Brazil", "India",
        "Côte d'Ivoire", "España", "Italy", "netherlands", "Poland", "Sweden", "Türkiye", "South Africa", "Canada", "Mexico",
        "Australia", "Nigeria", "Viet Nam", "Ireland",
    ];

    private static readonly byte[][] CountryBytes = Countries.Select(Encoding.UTF8.GetBytes).ToArray();

    public static async Task<OrdersCsvFile> EnsureAsync(string work, int megabytes, CancellationToken cancellationToken)
    {
        var path = OrdersCsvFile.PathFor(work, megabytes, Version);
        if (OrdersCsvFile.Cached(path) is { } cached)
        {
            return cached;
        }
        Console.WriteLine($"Generating a {megabytes} MB orders CSV at {path} (once; cached)...");
        Directory.CreateDirectory(work);
        var file = await Task.Run(() => Generate(path, (long)megabytes * 1024 * 1024, cancellationToken), cancellationToken);
        file.Describe();
        return file;
    }

    private static OrdersCsvFile Generate(string path, long targetBytes, CancellationToken cancellationToken)
    {
        var threshold = MedianTotal();
        var partial = path + ".partial";
        var random = new Random(Seed);
        long rows = 0, above = 0;
        using (var output = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20))
        {
            output.Write("id,name,qty,price,country\n"u8);
            var row = new byte[512];
            while (output.Position < targetBytes)
            {
                rows++;
                var (qty, cents) = NextQuantityAndCents(random);
                var length = WriteRow(row, rows, random, qty, cents);
                output.Write(row, 0, length);
                // The pipeline computes Number(qty) * Number(price) in doubles; cents / 100.0 is the same double as parsing the text.
                if (qty * (cents / 100.0) > threshold)
                {
                    above++;
                }
                if (rows % 1_000_000 == 0)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                }
            }
        }
        File.Move(partial, path, overwrite: true);
        return new OrdersCsvFile(path, rows, new FileInfo(path).Length, threshold, above);
    }

    private static int WriteRow(Span<byte> row, long id, Random random, int qty, long cents)
    {
        var at = 0;
        Utf8Formatter.TryFormat(FirstOrderId + id, row, out var written);
        at += written;
        row[at++] = (byte)',';
        at += Encoding.UTF8.GetBytes(NextName(random), row[at..]);
        row[at++] = (byte)',';
        Utf8Formatter.TryFormat(qty, row[at..], out written);
        at += written;
        row[at++] = (byte)',';
        Utf8Formatter.TryFormat(cents / 100, row[at..], out written);
        at += written;
        row[at++] = (byte)'.';
        Utf8Formatter.TryFormat(cents % 100, row[at..], out written, new StandardFormat('D', 2));
        at += written;
        row[at++] = (byte)',';
        var country = CountryBytes[random.Next(CountryBytes.Length)];
        country.CopyTo(row[at..]);
        at += country.Length;
        row[at++] = (byte)'\n';
        return at;
    }

    private static string NextName(Random random)
    {
        var first = FirstNames[random.Next(FirstNames.Length)];
        var last = LastNames[random.Next(LastNames.Length)];
        if (random.Next(4) == 0)
        {
            last = $"{last}-{LastNames[random.Next(LastNames.Length)]}";
        }
        if (random.Next(5) < 2)
        {
            first = $"{first} {(char)('A' + random.Next(26))}.";
        }
        return random.Next(100) switch
        {
            < 3 => $"\"{last}, {first}\"",
            < 4 => $"\"{first} \"\"{first[..Math.Min(3, first.Length)]}\"\" {last}\"",
            _ => $"{first} {last}",
        };
    }

    private static (int Qty, long Cents) NextQuantityAndCents(Random random)
    {
        var qty = random.Next(10) == 0 ? random.Next(12, 201) : random.Next(1, 12);
        var cents = (long)Math.Round(Math.Exp(Math.Log(99) + random.NextDouble() * (Math.Log(99_999) - Math.Log(99))));
        return (qty, cents);
    }

    /// <summary>The median of qty × price over a sample drawn like the rows, rounded: the filter keeps about half.</summary>
    private static double MedianTotal()
    {
        var random = new Random(Seed + 1);
        var totals = Enumerable.Range(0, 200_000).Select(_ => NextQuantityAndCents(random)).Select(r => r.Qty * (r.Cents / 100.0)).Order().ToList();
        return Math.Round(totals[totals.Count / 2]);
    }
}
