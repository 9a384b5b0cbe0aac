namespace Saas.Bench.Report;

public static class TextTable
{
    /// <summary>Prints rows under a header: the first column left-aligned, the others right-aligned, two spaces apart.</summary>
    public static void Print(string[] header, IEnumerable<string[]> rows)
    {
        var table = rows.Prepend(header).ToList();
        var widths = Enumerable.Range(0, header.Length).Select(c => table.Max(r => r[c].Length)).ToArray();
        foreach (var row in table)
        {
            Console.WriteLine(string.Join("  ", row.Select((cell, c) => c == 0 ? cell.PadRight(widths[c]) : cell.PadLeft(widths[c]))).TrimEnd());
        }
    }
}
