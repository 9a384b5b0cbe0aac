namespace Saas.Web.Components.Pipelines;

public enum DiffKind
{
    Same,
    Removed,
    Added,
}

/// <param name="Left">1-based line number in the left text (null for an added line).</param>
/// <param name="Right">1-based line number in the right text (null for a removed line).</param>
public sealed record DiffLine(DiffKind Kind, string Text, int? Left, int? Right);

/// <summary>One row of a side-by-side view: a removed line faces the added line that replaced it.</summary>
public sealed record DiffRow(DiffLine? Left, DiffLine? Right);

/// <summary>A line diff by longest common subsequence: small definitions, so the quadratic table is fine.</summary>
public static class LineDiff
{
    public static IReadOnlyList<DiffLine> Compare(string left, string right)
    {
        var a = Lines(left);
        var b = Lines(right);
        // common[i, j] = length of the longest common subsequence of a[i..] and b[j..].
        var common = new int[a.Length + 1, b.Length + 1];
        for (var i = a.Length - 1; i >= 0; i--)
        {
            for (var j = b.Length - 1; j >= 0; j--)
            {
                common[i, j] = a[i] == b[j] ? common[i + 1, j + 1] + 1 : Math.Max(common[i + 1, j], common[i, j + 1]);
            }
        }
        var lines = new List<DiffLine>(a.Length + b.Length);
        int x = 0, y = 0;
        while (x < a.Length || y < b.Length)
        {
            if (x < a.Length && y < b.Length && a[x] == b[y])
            {
                lines.Add(new DiffLine(DiffKind.Same, a[x], x + 1, y + 1));
                x++;
                y++;
            }
            else if (y < b.Length && (x == a.Length || common[x, y + 1] > common[x + 1, y]))
            {
                lines.Add(new DiffLine(DiffKind.Added, b[y], null, y + 1));
                y++;
            }
            else
            {
                lines.Add(new DiffLine(DiffKind.Removed, a[x], x + 1, null));
                x++;
            }
        }
        return lines;
    }

    public static IReadOnlyList<DiffRow> SideBySide(IReadOnlyList<DiffLine> lines)
    {
        var rows = new List<DiffRow>(lines.Count);
        var removed = new List<DiffLine>();
        var added = new List<DiffLine>();
        void Flush()
        {
            for (var i = 0; i < Math.Max(removed.Count, added.Count); i++)
            {
                rows.Add(new DiffRow(i < removed.Count ? removed[i] : null, i < added.Count ? added[i] : null));
            }
            removed.Clear();
            added.Clear();
        }
        foreach (var line in lines)
        {
            switch (line.Kind)
            {
                case DiffKind.Removed:
                    if (added.Count > 0)
                    {
                        Flush();
                    }
                    removed.Add(line);
                    break;
                case DiffKind.Added:
                    added.Add(line);
                    break;
                default:
                    Flush();
                    rows.Add(new DiffRow(line, line));
                    break;
            }
        }
        Flush();
        return rows;
    }

    private static string[] Lines(string text) => text.Length == 0 ? [] : text.ReplaceLineEndings("\n").Split('\n');
}
