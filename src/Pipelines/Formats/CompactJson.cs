using System.Buffers;

namespace Saas.Pipelines.Formats;

/// <summary>Copies already-validated JSON without its insignificant whitespace.</summary>
internal static class CompactJson
{
    private static readonly SearchValues<byte> Whitespace = SearchValues.Create(" \t\r\n"u8);
    private static readonly SearchValues<byte> QuoteOrWhitespace = SearchValues.Create("\" \t\r\n"u8);
    private static readonly SearchValues<byte> QuoteOrEscape = SearchValues.Create("\"\\"u8);

    public static void Write(ReadOnlySpan<byte> json, PooledByteBuffer output)
    {
        if (!json.ContainsAny(Whitespace))
        {
            output.Write(json);
            return;
        }
        var destination = output.GetSpan(json.Length);
        var written = 0;
        var at = 0;
        while (at < json.Length)
        {
            var next = json[at..].IndexOfAny(QuoteOrWhitespace);
            if (next < 0)
            {
                Copy(json[at..], destination, ref written);
                break;
            }
            Copy(json.Slice(at, next), destination, ref written);
            at += next;
            if (json[at] != '"')
            {
                at++;
                continue;
            }
            var stringEnd = EndOfString(json, at);
            Copy(json[at..stringEnd], destination, ref written);
            at = stringEnd;
        }
        output.Advance(written);
    }

    /// <summary>The index just past the closing quote of the string that opens at <paramref name="quote"/>.</summary>
    private static int EndOfString(ReadOnlySpan<byte> json, int quote)
    {
        var at = quote + 1;
        while (true)
        {
            at += json[at..].IndexOfAny(QuoteOrEscape);
            if (json[at] == '"')
            {
                return at + 1;
            }
            at += 2;
        }
    }

    private static void Copy(ReadOnlySpan<byte> source, Span<byte> destination, ref int written)
    {
        source.CopyTo(destination[written..]);
        written += source.Length;
    }
}
