using System.Globalization;
using System.Numerics;

namespace Saas.Pipelines.Expressions;

/// <summary>Numbers to text and back exactly as ECMAScript specifies (Number::toString, StringToNumber, parseFloat, parseInt, toFixed).</summary>
internal static class JsNumberText
{
    private const double TwoPow53 = 9007199254740992d;
    private const double LongRange = 9223372036854775808d;

    public static string Format(double value)
    {
        if (value == 0)
        {
            return "0";
        }
        if (double.IsNaN(value))
        {
            return "NaN";
        }
        if (double.IsInfinity(value))
        {
            return value > 0 ? "Infinity" : "-Infinity";
        }
        // Jint prints every integral double in the range of a long with all its digits (V8 would print
        // 2**60 as 1152921504606847000); the interpreter is the reference, so do the same.
        if (value > -LongRange && value < LongRange && value == Math.Floor(value))
        {
            return ((long)value).ToString(CultureInfo.InvariantCulture);
        }
        return FormatShortest(value);
    }

    private static string FormatShortest(double value)
    {
        // .NET's round-trip format yields the shortest digits that read back as the same double, which is
        // what Number::toString asks for; only the layout differs, so take the digits and lay them out as JS does.
        Span<char> text = stackalloc char[40];
        value.TryFormat(text, out var written, "R", CultureInfo.InvariantCulture);
        text = text[..written];

        var negative = text[0] == '-';
        if (negative)
        {
            text = text[1..];
        }

        var exponent = 0;
        var e = text.IndexOfAny('E', 'e');
        if (e >= 0)
        {
            exponent = int.Parse(text[(e + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            text = text[..e];
        }

        Span<char> digits = stackalloc char[40];
        var count = 0;
        var point = -1;
        foreach (var c in text)
        {
            if (c == '.')
            {
                point = count;
            }
            else
            {
                digits[count++] = c;
            }
        }
        var n = (point < 0 ? count : point) + exponent;

        var start = 0;
        while (start < count - 1 && digits[start] == '0')
        {
            start++;
            n--;
        }
        var end = count;
        while (end > start + 1 && digits[end - 1] == '0')
        {
            end--;
        }
        ReadOnlySpan<char> s = digits[start..end];
        var k = s.Length;

        var sb = new System.Text.StringBuilder(k + 26);
        if (negative)
        {
            sb.Append('-');
        }
        if (k <= n && n <= 21)
        {
            sb.Append(s).Append('0', n - k);
        }
        else if (0 < n && n <= 21)
        {
            sb.Append(s[..n]).Append('.').Append(s[n..]);
        }
        else if (-6 < n && n <= 0)
        {
            sb.Append("0.").Append('0', -n).Append(s);
        }
        else
        {
            sb.Append(s[0]);
            if (k > 1)
            {
                sb.Append('.').Append(s[1..]);
            }
            var e10 = n - 1;
            sb.Append('e').Append(e10 < 0 ? '-' : '+').Append(Math.Abs(e10).ToString(CultureInfo.InvariantCulture));
        }
        return sb.ToString();
    }

    public static bool IsWhiteSpace(char c) => c switch
    {
        '\t' or '\n' or '\v' or '\f' or '\r' or ' ' or '\u00A0' or '\u1680' or '\u2028' or '\u2029' or '\u202F' or '\u205F' or '\u3000' or '\uFEFF' => true,
        >= '\u2000' and <= '\u200A' => true,
        _ => false,
    };

    public static ReadOnlySpan<char> Trim(ReadOnlySpan<char> s) => TrimEnd(TrimStart(s));

    public static ReadOnlySpan<char> TrimStart(ReadOnlySpan<char> s)
    {
        var i = 0;
        while (i < s.Length && IsWhiteSpace(s[i]))
        {
            i++;
        }
        return s[i..];
    }

    public static ReadOnlySpan<char> TrimEnd(ReadOnlySpan<char> s)
    {
        var i = s.Length;
        while (i > 0 && IsWhiteSpace(s[i - 1]))
        {
            i--;
        }
        return s[..i];
    }

    /// <summary>StringToNumber: <c>Number(text)</c>.</summary>
    public static double Parse(string text)
    {
        if (TryParseShortDecimal(text, out var quick))
        {
            return quick;
        }
        var s = Trim(text);
        if (s.IsEmpty)
        {
            return 0;
        }
        if (s.Length > 2 && s[0] == '0')
        {
            var radix = s[1] switch
            {
                'x' or 'X' => 16,
                'o' or 'O' => 8,
                'b' or 'B' => 2,
                _ => 0,
            };
            if (radix != 0)
            {
                return ParseRadixDigits(s[2..], radix, out var used) && used == s.Length - 2 ? ParseIntegerDigits(s[2..], radix) : double.NaN;
            }
        }
        return DecimalPrefixLength(s) == s.Length ? ParseDecimal(s) : double.NaN;
    }

    public static double ParseFloat(string text)
    {
        if (TryParseShortDecimal(text, out var quick))
        {
            return quick;
        }

        var s = TrimStart(text);
        var length = DecimalPrefixLength(s);
        return length == 0 ? double.NaN : ParseDecimal(s[..length]);
    }

    public static double ParseInt(string text, double radixNumber)
    {
        var s = TrimStart(text);
        var sign = 1d;
        if (!s.IsEmpty && (s[0] == '-' || s[0] == '+'))
        {
            sign = s[0] == '-' ? -1 : 1;
            s = s[1..];
        }

        var radix = JsSemantics.ToInt32(radixNumber);
        var stripPrefix = true;
        if (radix != 0)
        {
            if (radix < 2 || radix > 36)
            {
                return double.NaN;
            }
            if (radix != 16)
            {
                stripPrefix = false;
            }
        }
        else
        {
            radix = 10;
        }
        if (stripPrefix && s.Length >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        {
            s = s[2..];
            radix = 16;
        }

        ParseRadixDigits(s, radix, out var used);
        if (used == 0)
        {
            return double.NaN;
        }
        var value = ParseIntegerDigits(s[..used], radix);
        return value == 0 ? (sign < 0 ? -0d : 0d) : sign * value;
    }

    public static string ToFixed(double value, int fractionDigits)
    {
        if (double.IsNaN(value))
        {
            return "NaN";
        }
        if (Math.Abs(value) >= 1e21)
        {
            return Format(value);
        }

        var sign = value < 0 ? "-" : "";
        var x = Math.Abs(value);
        string digits;
        if (x < TwoPow53 && x == Math.Floor(x))
        {
            digits = ((long)x).ToString(CultureInfo.InvariantCulture) + new string('0', fractionDigits);
        }
        else
        {
            // n is the integer nearest to x * 10^f, ties to the larger: exact arithmetic on the double's binary value.
            var bits = BitConverter.DoubleToInt64Bits(x);
            var exponent = (int)((bits >> 52) & 0x7FF);
            var mantissa = bits & 0xFFFFFFFFFFFFFL;
            if (exponent == 0)
            {
                exponent = 1;
            }
            else
            {
                mantissa |= 1L << 52;
            }
            exponent -= 1075;

            var scaled = new BigInteger(mantissa) * BigInteger.Pow(10, fractionDigits);
            BigInteger n;
            if (exponent >= 0)
            {
                n = scaled << exponent;
            }
            else
            {
                var denominator = BigInteger.One << -exponent;
                n = BigInteger.DivRem(scaled, denominator, out var remainder);
                if (remainder * 2 >= denominator)
                {
                    n += 1;
                }
            }
            digits = n.ToString(CultureInfo.InvariantCulture);
        }

        if (fractionDigits == 0)
        {
            return sign + digits;
        }
        if (digits.Length <= fractionDigits)
        {
            digits = new string('0', fractionDigits + 1 - digits.Length) + digits;
        }
        var split = digits.Length - fractionDigits;
        return string.Concat(sign, digits.AsSpan(0, split), ".", digits.AsSpan(split));
    }

    private static readonly double[] PowersOfTen = [1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15];

    /// <summary>
    /// "-123.45" and the like, the bulk of CSV numbers: at most 15 digits make an exact integer and 10^k is exact,
    /// so one IEEE division rounds correctly (Clinger's fast path) and the full parser is not needed.
    /// </summary>
    private static bool TryParseShortDecimal(string text, out double value)
    {
        value = 0;
        var i = 0;
        var negative = false;
        if (text.Length > 0 && text[0] == '-')
        {
            negative = true;
            i = 1;
        }
        if (i == text.Length || text.Length - i > 16)
        {
            return false;
        }
        long mantissa = 0;
        var digits = 0;
        var fraction = -1;
        for (; i < text.Length; i++)
        {
            var c = text[i];
            if (char.IsAsciiDigit(c))
            {
                mantissa = mantissa * 10 + (c - '0');
                digits++;
                if (fraction >= 0)
                {
                    fraction++;
                }
            }
            else if (c == '.' && fraction < 0)
            {
                fraction = 0;
            }
            else
            {
                return false;
            }
        }
        if (digits == 0 || digits > 15)
        {
            return false;
        }
        value = fraction > 0 ? mantissa / PowersOfTen[fraction] : mantissa;
        if (negative)
        {
            value = -value;
        }
        return true;
    }

    /// <summary>Length of the longest prefix that is a StrDecimalLiteral (sign, Infinity, digits, fraction, exponent).</summary>
    private static int DecimalPrefixLength(ReadOnlySpan<char> s)
    {
        var i = 0;
        if (i < s.Length && (s[i] == '+' || s[i] == '-'))
        {
            i++;
        }
        if (s[i..].StartsWith("Infinity", StringComparison.Ordinal))
        {
            return i + 8;
        }

        var digitsStart = i;
        while (i < s.Length && char.IsAsciiDigit(s[i]))
        {
            i++;
        }
        var mantissaDigits = i - digitsStart;
        if (i < s.Length && s[i] == '.')
        {
            var fractionStart = ++i;
            while (i < s.Length && char.IsAsciiDigit(s[i]))
            {
                i++;
            }
            mantissaDigits += i - fractionStart;
        }
        if (mantissaDigits == 0)
        {
            return 0;
        }

        if (i < s.Length && (s[i] == 'e' || s[i] == 'E'))
        {
            var j = i + 1;
            if (j < s.Length && (s[j] == '+' || s[j] == '-'))
            {
                j++;
            }
            var exponentStart = j;
            while (j < s.Length && char.IsAsciiDigit(s[j]))
            {
                j++;
            }
            if (j > exponentStart)
            {
                i = j;
            }
        }
        return i;
    }

    private static double ParseDecimal(ReadOnlySpan<char> s)
    {
        var unsigned = s[0] is '+' or '-' ? s[1..] : s;
        if (unsigned.SequenceEqual("Infinity"))
        {
            return s[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
        }
        return double.Parse(s, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture);
    }

    private static bool ParseRadixDigits(ReadOnlySpan<char> s, int radix, out int used)
    {
        used = 0;
        while (used < s.Length && DigitValue(s[used]) < radix)
        {
            used++;
        }
        return used > 0;
    }

    private static double ParseIntegerDigits(ReadOnlySpan<char> digits, int radix)
    {
        if (radix == 10)
        {
            // Beyond 20 significant digits ECMAScript lets engines approximate; stay where the answer is exact.
            if (digits.TrimStart('0').Length > 20)
            {
                throw new InterpreterRequiredException();
            }
            return double.Parse(digits, NumberStyles.None, CultureInfo.InvariantCulture);
        }

        var value = 0d;
        foreach (var c in digits)
        {
            value = value * radix + DigitValue(c);
            if (value >= TwoPow53)
            {
                throw new InterpreterRequiredException();
            }
        }
        return value;
    }

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'z' => c - 'a' + 10,
        >= 'A' and <= 'Z' => c - 'A' + 10,
        _ => int.MaxValue,
    };
}
