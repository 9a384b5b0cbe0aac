using System.Runtime.CompilerServices;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// ECMAScript's abstract operations over record values: null, <see cref="Undefined"/>, bool, double, string,
/// <see cref="Record"/> (a plain object) and <see cref="List{T}"/> (an array). Anything a record can hold
/// converts without running user code, which is what lets the compiled tier reproduce JavaScript exactly.
/// </summary>
internal static class JsSemantics
{
    public static readonly object True = true;
    public static readonly object False = false;
    private const int MaxNesting = 256;

    public static object Box(bool value) => value ? True : False;

    /// <summary>A value read from a record, as the compiled tier sees it.</summary>
    public static object? Read(object? value) => value switch
    {
        null or string or double or bool or Record or List<object?> or Undefined => value,
        int or long or float or decimal or short or byte or uint or ulong or sbyte or ushort => Convert.ToDouble(value, System.Globalization.CultureInfo.InvariantCulture),
        _ => throw new InterpreterRequiredException(),
    };

    public static bool IsNullish(object? value) => value is null || value == Undefined.Value;

    public static bool ToBoolean(object? value) => value switch
    {
        bool b => b,
        double d => !(d == 0 || double.IsNaN(d)),
        string s => s.Length != 0,
        null => false,
        Undefined => false,
        _ => true,
    };

    public static double ToNumber(object? value) => value switch
    {
        double d => d,
        string s => JsNumberText.Parse(s),
        bool b => b ? 1 : 0,
        null => 0,
        Undefined => double.NaN,
        _ => JsNumberText.Parse(ToString(value)),
    };

    public static string ToString(object? value) => value switch
    {
        string s => s,
        double d => JsNumberText.Format(d),
        bool b => b ? "true" : "false",
        null => "null",
        Undefined => "undefined",
        Record => "[object Object]",
        List<object?> list => Join(list, ",", 0),
        _ => throw new InterpreterRequiredException(),
    };

    /// <summary>ToPrimitive: plain objects and arrays have the default valueOf, so both hints end in toString.</summary>
    public static object? ToPrimitive(object? value) => value is Record or List<object?> ? ToString(value) : value;

    public static string Join(List<object?> list, string separator, int depth)
    {
        if (depth > MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new InterpreterRequiredException();
        }
        if (list.Count == 0)
        {
            return "";
        }
        if (list.Count == 1)
        {
            return JoinElement(list[0], depth);
        }
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < list.Count; i++)
        {
            if (i > 0)
            {
                sb.Append(separator);
            }
            sb.Append(JoinElement(list[i], depth));
        }
        return sb.ToString();
    }

    private static string JoinElement(object? element, int depth) => Read(element) switch
    {
        null or Undefined => "",
        List<object?> nested => Join(nested, ",", depth + 1),
        var other => ToString(other),
    };

    public static double ToIntegerOrInfinity(double number)
    {
        if (double.IsNaN(number) || number == 0)
        {
            return 0;
        }
        return double.IsInfinity(number) ? number : Math.Truncate(number);
    }

    public static int ToInt32(double number)
    {
        if (number >= int.MinValue && number <= int.MaxValue)
        {
            return (int)number;
        }
        if (!double.IsFinite(number))
        {
            return 0;
        }
        var modulo = Math.Truncate(number) % 4294967296d;
        if (modulo < 0)
        {
            modulo += 4294967296d;
        }
        return unchecked((int)(uint)modulo);
    }

    public static uint ToUint32(double number) => unchecked((uint)ToInt32(number));

    public static string TypeOf(object? value) => value switch
    {
        Undefined => "undefined",
        null => "object",
        bool => "boolean",
        double => "number",
        string => "string",
        _ => "object",
    };

    public static bool StrictEquals(object? a, object? b) => a switch
    {
        double x => b is double y && x == y,
        string x => b is string y && string.Equals(x, y, StringComparison.Ordinal),
        bool x => b is bool y && x == y,
        null => b is null,
        _ => ReferenceEquals(a, b),
    };

    public static bool SameValueZero(object? a, object? b) =>
        a is double x && b is double y ? x == y || (double.IsNaN(x) && double.IsNaN(y)) : StrictEquals(a, b);

    public static bool LooseEquals(object? a, object? b)
    {
        while (true)
        {
            if (SameType(a, b))
            {
                return StrictEquals(a, b);
            }
            if (IsNullish(a) && IsNullish(b))
            {
                return true;
            }
            if (IsNullish(a) || IsNullish(b))
            {
                return false;
            }
            switch (a, b)
            {
                case (double x, string y):
                    return x == JsNumberText.Parse(y);
                case (string x, double y):
                    return JsNumberText.Parse(x) == y;
                case (bool x, _):
                    a = x ? 1d : 0d;
                    continue;
                case (_, bool y):
                    b = y ? 1d : 0d;
                    continue;
                case (string or double, Record or List<object?>):
                    b = ToPrimitive(b);
                    continue;
                case (Record or List<object?>, string or double):
                    a = ToPrimitive(a);
                    continue;
                default:
                    return false;
            }
        }
    }

    private static bool SameType(object? a, object? b) => (a, b) switch
    {
        (double, double) or (string, string) or (bool, bool) or (null, null) => true,
        (Undefined, Undefined) => true,
        (Record or List<object?>, Record or List<object?>) => true,
        _ => false,
    };

    /// <summary>IsLessThan: true, false, or null for undefined (a NaN was involved).</summary>
    public static bool? LessThan(object? a, object? b)
    {
        if (a is double x && b is double y)
        {
            return double.IsNaN(x) || double.IsNaN(y) ? null : x < y;
        }
        var pa = ToPrimitive(a);
        var pb = ToPrimitive(b);
        if (pa is string sa && pb is string sb)
        {
            return string.CompareOrdinal(sa, sb) < 0;
        }
        var nx = ToNumber(pa);
        var ny = ToNumber(pb);
        return double.IsNaN(nx) || double.IsNaN(ny) ? null : nx < ny;
    }

    /// <summary>A canonical array index ("0", "17", never "01" or "-1") below 2^32 - 1.</summary>
    public static bool TryArrayIndex(string key, out uint index)
    {
        index = 0;
        if (key.Length == 0 || key.Length > 10 || (key.Length > 1 && key[0] == '0'))
        {
            return false;
        }
        ulong value = 0;
        foreach (var c in key)
        {
            if (!char.IsAsciiDigit(c))
            {
                return false;
            }
            value = value * 10 + (uint)(c - '0');
        }
        if (value >= uint.MaxValue)
        {
            return false;
        }
        index = (uint)value;
        return true;
    }

    public static bool TryArrayIndex(double key, out uint index)
    {
        if (key >= 0 && key < uint.MaxValue && key == Math.Floor(key))
        {
            index = (uint)key;
            return true;
        }
        index = 0;
        return false;
    }

    /// <summary>A result handed back to the caller: a copy, so neither side can change the other's data.</summary>
    public static object? ToRecordValue(object? value, int depth = 0)
    {
        switch (value)
        {
            case Undefined:
                return null;
            case Record record:
                if (depth > MaxNesting)
                {
                    throw new InterpreterRequiredException();
                }
                var copy = new Record(record.Count);
                foreach (var (key, field) in record)
                {
                    copy[key] = ToRecordValue(Read(field), depth + 1);
                }
                return copy;
            case List<object?> list:
                if (depth > MaxNesting)
                {
                    throw new InterpreterRequiredException();
                }
                var items = new List<object?>(list.Count);
                foreach (var item in list)
                {
                    items.Add(ToRecordValue(Read(item), depth + 1));
                }
                return items;
            default:
                return value;
        }
    }
}
