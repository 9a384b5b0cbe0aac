using System.Buffers;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>Methods the compiled tier calls on a receiver; which one runs depends on the receiver's runtime type.</summary>
internal enum JsMethod
{
    ToUpperCase,
    ToLowerCase,
    Trim,
    TrimStart,
    TrimEnd,
    Includes,
    StartsWith,
    EndsWith,
    IndexOf,
    LastIndexOf,
    Slice,
    Substring,
    Substr,
    CharAt,
    CharCodeAt,
    At,
    PadStart,
    PadEnd,
    Concat,
    Replace,
    ReplaceAll,
    Split,
    Join,
    ToFixed,
    ToString,
    ValueOf,
}

internal enum JsFunction
{
    Number,
    String,
    Boolean,
    ParseFloat,
    ParseInt,
    IsNaN,
    IsFinite,
    NumberIsNaN,
    NumberIsFinite,
    NumberIsInteger,
    NumberIsSafeInteger,
    MathAbs,
    MathCeil,
    MathFloor,
    MathRound,
    MathTrunc,
    MathSign,
    MathSqrt,
    MathLog,
    MathLog10,
    MathExp,
    MathPow,
    MathMin,
    MathMax,
}

/// <summary>The built-in functions and methods the compiled tier runs itself, each following its ECMAScript algorithm.</summary>
internal static class JsBuiltins
{
    public static readonly IReadOnlyDictionary<string, JsMethod> Methods = new Dictionary<string, JsMethod>(StringComparer.Ordinal)
    {
        ["toUpperCase"] = JsMethod.ToUpperCase,
        ["toLowerCase"] = JsMethod.ToLowerCase,
        ["trim"] = JsMethod.Trim,
        ["trimStart"] = JsMethod.TrimStart,
        ["trimLeft"] = JsMethod.TrimStart,
        ["trimEnd"] = JsMethod.TrimEnd,
        ["trimRight"] = JsMethod.TrimEnd,
        ["includes"] = JsMethod.Includes,
        ["startsWith"] = JsMethod.StartsWith,
        ["endsWith"] = JsMethod.EndsWith,
        ["indexOf"] = JsMethod.IndexOf,
        ["lastIndexOf"] = JsMethod.LastIndexOf,
        ["slice"] = JsMethod.Slice,
        ["substring"] = JsMethod.Substring,
        ["substr"] = JsMethod.Substr,
        ["charAt"] = JsMethod.CharAt,
        ["charCodeAt"] = JsMethod.CharCodeAt,
        ["at"] = JsMethod.At,
        ["padStart"] = JsMethod.PadStart,
        ["padEnd"] = JsMethod.PadEnd,
        ["concat"] = JsMethod.Concat,
        ["replace"] = JsMethod.Replace,
        ["replaceAll"] = JsMethod.ReplaceAll,
        ["split"] = JsMethod.Split,
        ["join"] = JsMethod.Join,
        ["toFixed"] = JsMethod.ToFixed,
        ["toString"] = JsMethod.ToString,
        ["valueOf"] = JsMethod.ValueOf,
    };

    public static readonly IReadOnlyDictionary<string, JsFunction> Globals = new Dictionary<string, JsFunction>(StringComparer.Ordinal)
    {
        ["Number"] = JsFunction.Number,
        ["String"] = JsFunction.String,
        ["Boolean"] = JsFunction.Boolean,
        ["parseFloat"] = JsFunction.ParseFloat,
        ["parseInt"] = JsFunction.ParseInt,
        ["isNaN"] = JsFunction.IsNaN,
        ["isFinite"] = JsFunction.IsFinite,
    };

    public static readonly IReadOnlyDictionary<string, JsFunction> NumberFunctions = new Dictionary<string, JsFunction>(StringComparer.Ordinal)
    {
        ["isNaN"] = JsFunction.NumberIsNaN,
        ["isFinite"] = JsFunction.NumberIsFinite,
        ["isInteger"] = JsFunction.NumberIsInteger,
        ["isSafeInteger"] = JsFunction.NumberIsSafeInteger,
        ["parseFloat"] = JsFunction.ParseFloat,
        ["parseInt"] = JsFunction.ParseInt,
    };

    public static readonly IReadOnlyDictionary<string, JsFunction> MathFunctions = new Dictionary<string, JsFunction>(StringComparer.Ordinal)
    {
        ["abs"] = JsFunction.MathAbs,
        ["ceil"] = JsFunction.MathCeil,
        ["floor"] = JsFunction.MathFloor,
        ["round"] = JsFunction.MathRound,
        ["trunc"] = JsFunction.MathTrunc,
        ["sign"] = JsFunction.MathSign,
        ["sqrt"] = JsFunction.MathSqrt,
        ["log"] = JsFunction.MathLog,
        ["log10"] = JsFunction.MathLog10,
        ["exp"] = JsFunction.MathExp,
        ["pow"] = JsFunction.MathPow,
        ["min"] = JsFunction.MathMin,
        ["max"] = JsFunction.MathMax,
    };

    public static readonly IReadOnlyDictionary<string, double> NumberConstants = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["MAX_SAFE_INTEGER"] = 9007199254740991d,
        ["MIN_SAFE_INTEGER"] = -9007199254740991d,
        ["EPSILON"] = Math.Pow(2, -52),
        ["MAX_VALUE"] = double.MaxValue,
        ["MIN_VALUE"] = double.Epsilon,
        ["POSITIVE_INFINITY"] = double.PositiveInfinity,
        ["NEGATIVE_INFINITY"] = double.NegativeInfinity,
        ["NaN"] = double.NaN,
    };

    public static readonly IReadOnlyDictionary<string, double> MathConstants = new Dictionary<string, double>(StringComparer.Ordinal)
    {
        ["PI"] = Math.PI,
        ["E"] = Math.E,
        ["LN2"] = 0.6931471805599453,
        ["LN10"] = 2.302585092994046,
        ["LOG2E"] = 1.4426950408889634,
        ["SQRT2"] = 1.4142135623730951,
        ["SQRT1_2"] = 0.7071067811865476,
    };

    // Math.cbrt, Math.log2 and Math.LOG10E are left to the interpreter: Jint's differ from .NET's in the last bit.

    // Own properties of the prototypes a record value inherits from (Jint 4.18). A name missing from a record,
    // string or array but present here is a method or accessor the compiled tier does not model as a value.
    public static readonly HashSet<string> ObjectPrototypeNames =
    [
        "constructor", "__defineGetter__", "__defineSetter__", "__lookupGetter__", "__lookupSetter__", "hasOwnProperty",
        "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "toString", "valueOf", "__proto__",
    ];

    public static readonly HashSet<string> StringPrototypeNames =
    [
        .. ObjectPrototypeNames,
        "length", "anchor", "at", "big", "blink", "bold", "charAt", "charCodeAt", "codePointAt", "concat", "endsWith", "fixed",
        "fontcolor", "fontsize", "includes", "indexOf", "isWellFormed", "italics", "lastIndexOf", "link", "localeCompare", "match",
        "matchAll", "normalize", "padEnd", "padStart", "repeat", "replace", "replaceAll", "search", "slice", "small", "split",
        "startsWith", "strike", "sub", "substr", "substring", "sup", "toLocaleLowerCase", "toLocaleUpperCase", "toLowerCase",
        "toUpperCase", "toWellFormed", "trim", "trimEnd", "trimStart", "trimLeft", "trimRight",
    ];

    public static readonly HashSet<string> NumberPrototypeNames =
    [
        .. ObjectPrototypeNames,
        "toExponential", "toFixed", "toPrecision",
    ];

    public static readonly HashSet<string> BooleanPrototypeNames = [.. ObjectPrototypeNames];

    public static readonly HashSet<string> ArrayPrototypeNames =
    [
        .. ObjectPrototypeNames,
        "length", "at", "concat", "copyWithin", "entries", "every", "fill", "filter", "find", "findIndex", "findLast",
        "findLastIndex", "flat", "flatMap", "forEach", "includes", "indexOf", "join", "keys", "lastIndexOf", "map", "pop", "push",
        "reduce", "reduceRight", "reverse", "shift", "slice", "some", "sort", "splice", "toReversed", "toSorted", "toSpliced",
        "unshift", "values", "with", "group", "groupToMap",
    ];

    // Code units whose JavaScript case mapping is not .NET's one-to-one invariant mapping (multi-character results,
    // final sigma, Unicode versions apart, surrogate pairs): the interpreter handles strings containing them.
    private static readonly SearchValues<char> UpperCaseSpecials = SearchValues.Create(Ranges(
        ('\u00DF', '\u00DF'), ('\u0131', '\u0131'), ('\u0149', '\u0149'), ('\u017F', '\u017F'), ('\u01F0', '\u01F0'),
        ('\u0390', '\u0390'), ('\u03B0', '\u03B0'), ('\u0587', '\u0587'), ('\u1E96', '\u1E9A'), ('\u1F50', '\u1FFF'),
        ('\uA7CE', '\uA7D5'), ('\uD800', '\uDFFF'), ('\uFB00', '\uFB17')));

    private static readonly SearchValues<char> LowerCaseSpecials = SearchValues.Create(Ranges(
        ('\u0130', '\u0130'), ('\u03A3', '\u03A3'), ('\uA7CE', '\uA7D5'), ('\uD800', '\uDFFF')));

    private static string Ranges(params (char From, char To)[] ranges) =>
        string.Concat(ranges.SelectMany(r => Enumerable.Range(r.From, r.To - r.From + 1).Select(c => (char)c)));

    private static readonly string[] AsciiChars = [.. Enumerable.Range(0, 128).Select(c => ((char)c).ToString())];

    public static object? Call(JsFunction function, ReadOnlySpan<object?> args) => function switch
    {
        JsFunction.Number => args.Length == 0 ? 0d : JsSemantics.ToNumber(args[0]),
        JsFunction.String => args.Length == 0 ? "" : JsSemantics.ToString(args[0]),
        JsFunction.Boolean => JsSemantics.Box(JsSemantics.ToBoolean(Arg(args, 0))),
        JsFunction.ParseFloat => JsNumberText.ParseFloat(JsSemantics.ToString(Arg(args, 0))),
        JsFunction.ParseInt => JsNumberText.ParseInt(JsSemantics.ToString(Arg(args, 0)), JsSemantics.ToNumber(Arg(args, 1))),
        JsFunction.IsNaN => JsSemantics.Box(double.IsNaN(JsSemantics.ToNumber(Arg(args, 0)))),
        JsFunction.IsFinite => JsSemantics.Box(double.IsFinite(JsSemantics.ToNumber(Arg(args, 0)))),
        JsFunction.NumberIsNaN => JsSemantics.Box(Arg(args, 0) is double d && double.IsNaN(d)),
        JsFunction.NumberIsFinite => JsSemantics.Box(Arg(args, 0) is double d && double.IsFinite(d)),
        JsFunction.NumberIsInteger => JsSemantics.Box(Arg(args, 0) is double d && double.IsFinite(d) && Math.Truncate(d) == d),
        JsFunction.NumberIsSafeInteger => JsSemantics.Box(Arg(args, 0) is double d && double.IsFinite(d) && Math.Truncate(d) == d && Math.Abs(d) <= 9007199254740991d),
        _ => CallMath(function, args),
    };

    public static bool ReturnsNumber(JsFunction function) => function is JsFunction.Number or JsFunction.ParseFloat or JsFunction.ParseInt || function >= JsFunction.MathAbs;

    public static double CallMath(JsFunction function, ReadOnlySpan<object?> args)
    {
        switch (function)
        {
            case JsFunction.MathMin:
            case JsFunction.MathMax:
                return MinMax(function == JsFunction.MathMax, args);
            case JsFunction.MathPow:
                return Power(JsSemantics.ToNumber(Arg(args, 0)), JsSemantics.ToNumber(Arg(args, 1)));
        }

        var x = JsSemantics.ToNumber(Arg(args, 0));
        return function switch
        {
            JsFunction.MathAbs => Math.Abs(x),
            JsFunction.MathCeil => Math.Ceiling(x),
            JsFunction.MathFloor => Math.Floor(x),
            JsFunction.MathRound => Round(x),
            JsFunction.MathTrunc => Math.Truncate(x),
            JsFunction.MathSign => double.IsNaN(x) || x == 0 ? x : Math.Sign(x),
            JsFunction.MathSqrt => Math.Sqrt(x),
            JsFunction.MathLog => Math.Log(x),
            JsFunction.MathLog10 => Math.Log10(x),
            JsFunction.MathExp => Math.Exp(x),
            _ => throw new InterpreterRequiredException(),
        };
    }

    public static double Power(double x, double y)
    {
        if (double.IsNaN(y))
        {
            return double.NaN;
        }
        if (y == 0)
        {
            return 1;
        }
        if (Math.Abs(x) == 1 && double.IsInfinity(y))
        {
            return double.NaN;
        }
        return Math.Pow(x, y);
    }

    private static double Round(double x)
    {
        if (!double.IsFinite(x) || x == 0)
        {
            return x;
        }
        if (x < 0 && x >= -0.5)
        {
            return -0d;
        }
        var floor = Math.Floor(x);
        return x - floor >= 0.5 ? floor + 1 : floor;
    }

    private static double MinMax(bool max, ReadOnlySpan<object?> args)
    {
        var result = max ? double.NegativeInfinity : double.PositiveInfinity;
        var sawNaN = false;
        foreach (var arg in args)
        {
            var n = JsSemantics.ToNumber(arg);
            if (double.IsNaN(n))
            {
                sawNaN = true;
            }
            else if (max ? n > result || (n == 0 && result == 0 && !double.IsNegative(n)) : n < result || (n == 0 && result == 0 && double.IsNegative(n)))
            {
                result = n;
            }
        }
        return sawNaN ? double.NaN : result;
    }

    public static object? Call(JsMethod method, object? receiver, ReadOnlySpan<object?> args, ExpressionLimits limits) => receiver switch
    {
        string s => CallOnString(method, s, args, limits),
        List<object?> list => CallOnArray(method, list, args, limits),
        double d => method switch
        {
            JsMethod.ToFixed => ToFixed(d, Arg(args, 0)),
            JsMethod.ToString when Arg(args, 0) is Undefined || JsSemantics.ToNumber(args[0]) == 10 => JsNumberText.Format(d),
            JsMethod.ValueOf => d,
            _ => throw new InterpreterRequiredException(),
        },
        bool b => method switch
        {
            JsMethod.ToString => b ? "true" : "false",
            JsMethod.ValueOf => JsSemantics.Box(b),
            _ => throw new InterpreterRequiredException(),
        },
        _ => throw new InterpreterRequiredException(),
    };

    private static string ToFixed(double value, object? digits)
    {
        var f = JsSemantics.ToIntegerOrInfinity(JsSemantics.ToNumber(digits));
        if (f < 0 || f > 100)
        {
            throw new InterpreterRequiredException();
        }
        return JsNumberText.ToFixed(value, (int)f);
    }

    private static object? CallOnString(JsMethod method, string s, ReadOnlySpan<object?> args, ExpressionLimits limits)
    {
        switch (method)
        {
            case JsMethod.ToUpperCase:
                if (s.AsSpan().ContainsAny(UpperCaseSpecials))
                {
                    throw new InterpreterRequiredException();
                }
                return s.ToUpperInvariant();
            case JsMethod.ToLowerCase:
                if (s.AsSpan().ContainsAny(LowerCaseSpecials))
                {
                    throw new InterpreterRequiredException();
                }
                return s.ToLowerInvariant();
            case JsMethod.Trim:
                return Substring(s, JsNumberText.Trim(s));
            case JsMethod.TrimStart:
                return Substring(s, JsNumberText.TrimStart(s));
            case JsMethod.TrimEnd:
                return Substring(s, JsNumberText.TrimEnd(s));
            case JsMethod.Includes:
            {
                var search = JsSemantics.ToString(Arg(args, 0));
                var start = Clamp(Integer(Arg(args, 1)), s.Length);
                return JsSemantics.Box(s.AsSpan(start).IndexOf(search, StringComparison.Ordinal) >= 0);
            }
            case JsMethod.StartsWith:
            {
                var search = JsSemantics.ToString(Arg(args, 0));
                var start = Clamp(Integer(Arg(args, 1)), s.Length);
                return JsSemantics.Box(start + search.Length <= s.Length && s.AsSpan(start, search.Length).SequenceEqual(search));
            }
            case JsMethod.EndsWith:
            {
                var search = JsSemantics.ToString(Arg(args, 0));
                var end = Arg(args, 1) is Undefined ? s.Length : Clamp(Integer(args[1]), s.Length);
                var start = end - search.Length;
                return JsSemantics.Box(start >= 0 && s.AsSpan(start, search.Length).SequenceEqual(search));
            }
            case JsMethod.IndexOf:
            {
                var search = JsSemantics.ToString(Arg(args, 0));
                var start = Clamp(Integer(Arg(args, 1)), s.Length);
                var found = s.AsSpan(start).IndexOf(search, StringComparison.Ordinal);
                return found < 0 ? -1d : (double)(found + start);
            }
            case JsMethod.LastIndexOf:
            {
                var search = JsSemantics.ToString(Arg(args, 0));
                var position = JsSemantics.ToNumber(Arg(args, 1));
                var start = double.IsNaN(position) ? s.Length : Clamp(JsSemantics.ToIntegerOrInfinity(position), s.Length);
                var lastStart = Math.Min(start, s.Length - search.Length);
                if (lastStart < 0)
                {
                    return -1d;
                }
                return search.Length == 0 ? lastStart : (double)s.AsSpan(0, lastStart + search.Length).LastIndexOf(search, StringComparison.Ordinal);
            }
            case JsMethod.Slice:
            {
                var from = Relative(Integer(Arg(args, 0)), s.Length);
                var to = Arg(args, 1) is Undefined ? s.Length : Relative(Integer(args[1]), s.Length);
                return from < to ? s.Substring(from, to - from) : "";
            }
            case JsMethod.Substring:
            {
                var start = Clamp(Integer(Arg(args, 0)), s.Length);
                var end = Arg(args, 1) is Undefined ? s.Length : Clamp(Integer(args[1]), s.Length);
                return s.Substring(Math.Min(start, end), Math.Abs(end - start));
            }
            case JsMethod.Substr:
            {
                var start = Relative(Integer(Arg(args, 0)), s.Length);
                var length = Arg(args, 1) is Undefined ? s.Length : Clamp(Integer(args[1]), s.Length);
                var end = Math.Min(start + length, s.Length);
                return start < end ? s.Substring(start, end - start) : "";
            }
            case JsMethod.CharAt:
            {
                var position = Integer(Arg(args, 0));
                return position >= 0 && position < s.Length ? CharString(s[(int)position]) : "";
            }
            case JsMethod.CharCodeAt:
            {
                var position = Integer(Arg(args, 0));
                return position >= 0 && position < s.Length ? (double)s[(int)position] : double.NaN;
            }
            case JsMethod.At:
            {
                var relative = Integer(Arg(args, 0));
                var k = relative >= 0 ? relative : s.Length + relative;
                return k >= 0 && k < s.Length ? CharString(s[(int)k]) : Undefined.Value;
            }
            case JsMethod.PadStart:
            case JsMethod.PadEnd:
                return Pad(s, args, method == JsMethod.PadStart, limits);
            case JsMethod.Concat:
            {
                var result = s;
                foreach (var arg in args)
                {
                    result = Budget(result + JsSemantics.ToString(arg), limits);
                }
                return result;
            }
            case JsMethod.Replace:
            {
                var search = JsSemantics.ToString(Arg(args, 0));
                var replacementText = JsSemantics.ToString(Arg(args, 1));
                var position = s.IndexOf(search, StringComparison.Ordinal);
                if (position < 0)
                {
                    return s;
                }
                var replacement = Replacement(replacementText);
                return Budget(string.Concat(s.AsSpan(0, position), replacement, s.AsSpan(position + search.Length)), limits);
            }
            case JsMethod.ReplaceAll:
                return ReplaceAll(s, JsSemantics.ToString(Arg(args, 0)), JsSemantics.ToString(Arg(args, 1)), limits);
            case JsMethod.Split:
                return Split(s, args, limits);
            case JsMethod.ToString:
            case JsMethod.ValueOf:
                return s;
            default:
                throw new InterpreterRequiredException();
        }
    }

    private static object? CallOnArray(JsMethod method, List<object?> list, ReadOnlySpan<object?> args, ExpressionLimits limits)
    {
        switch (method)
        {
            case JsMethod.Includes:
            case JsMethod.IndexOf:
            {
                var target = Arg(args, 0);
                var from = Integer(Arg(args, 1));
                if (double.IsPositiveInfinity(from))
                {
                    return method == JsMethod.Includes ? JsSemantics.False : -1d;
                }
                var k = from >= 0 ? (int)Math.Min(from, list.Count) : (int)Math.Max(list.Count + from, 0);
                for (; k < list.Count; k++)
                {
                    var element = JsSemantics.Read(list[k]);
                    if (method == JsMethod.Includes ? JsSemantics.SameValueZero(target, element) : JsSemantics.StrictEquals(target, element))
                    {
                        return method == JsMethod.Includes ? JsSemantics.True : (double)k;
                    }
                }
                return method == JsMethod.Includes ? JsSemantics.False : -1d;
            }
            case JsMethod.Join:
            case JsMethod.ToString:
            {
                var separator = method == JsMethod.Join && Arg(args, 0) is not Undefined ? JsSemantics.ToString(args[0]) : ",";
                return Budget(JsSemantics.Join(list, separator, 0), limits);
            }
            case JsMethod.Slice:
            {
                var from = Relative(Integer(Arg(args, 0)), list.Count);
                var to = Arg(args, 1) is Undefined ? list.Count : Relative(Integer(args[1]), list.Count);
                var slice = new List<object?>(Math.Max(0, to - from));
                for (var i = from; i < to; i++)
                {
                    slice.Add(JsSemantics.Read(list[i]));
                }
                return slice;
            }
            case JsMethod.At:
            {
                var relative = Integer(Arg(args, 0));
                var k = relative >= 0 ? relative : list.Count + relative;
                return k >= 0 && k < list.Count ? JsSemantics.Read(list[(int)k]) : Undefined.Value;
            }
            case JsMethod.ValueOf:
                return list;
            default:
                throw new InterpreterRequiredException();
        }
    }

    private static string Pad(string s, ReadOnlySpan<object?> args, bool atStart, ExpressionLimits limits)
    {
        var target = Integer(Arg(args, 0));
        if (target <= s.Length)
        {
            return s;
        }
        var filler = Arg(args, 1) is Undefined ? " " : JsSemantics.ToString(args[1]);
        if (filler.Length == 0)
        {
            return s;
        }
        if (target > limits.MaxStringLength)
        {
            throw new InterpreterRequiredException();
        }
        var fillLength = (int)target - s.Length;
        var sb = new System.Text.StringBuilder((int)target);
        if (!atStart)
        {
            sb.Append(s);
        }
        while (fillLength > 0)
        {
            var take = Math.Min(fillLength, filler.Length);
            sb.Append(filler, 0, take);
            fillLength -= take;
        }
        if (atStart)
        {
            sb.Append(s);
        }
        return sb.ToString();
    }

    private static string ReplaceAll(string s, string search, string replacement, ExpressionLimits limits)
    {
        var positions = new List<int>();
        var advance = Math.Max(1, search.Length);
        var position = IndexOf(s, search, 0);
        while (position >= 0)
        {
            positions.Add(position);
            position = IndexOf(s, search, position + advance);
        }
        if (positions.Count == 0)
        {
            return s;
        }
        replacement = Replacement(replacement);
        var length = s.Length + (long)positions.Count * (replacement.Length - search.Length);
        if (length > limits.MaxStringLength)
        {
            throw new InterpreterRequiredException();
        }
        var sb = new System.Text.StringBuilder((int)length);
        var end = 0;
        foreach (var p in positions)
        {
            sb.Append(s, end, p - end).Append(replacement);
            end = p + search.Length;
        }
        if (end < s.Length)
        {
            sb.Append(s, end, s.Length - end);
        }
        return sb.ToString();
    }

    private static int IndexOf(string s, string search, int from)
    {
        if (from > s.Length)
        {
            return -1;
        }
        var found = s.AsSpan(from).IndexOf(search, StringComparison.Ordinal);
        return found < 0 ? -1 : found + from;
    }

    private static List<object?> Split(string s, ReadOnlySpan<object?> args, ExpressionLimits limits)
    {
        if (Arg(args, 1) is not Undefined)
        {
            throw new InterpreterRequiredException();
        }
        var separatorArg = Arg(args, 0);
        var separator = JsSemantics.ToString(separatorArg);
        if (separatorArg is Undefined)
        {
            return [s];
        }
        if (separator.Length == 0)
        {
            if (s.Length > limits.MaxArrayLength)
            {
                throw new InterpreterRequiredException();
            }
            var units = new List<object?>(s.Length);
            foreach (var c in s)
            {
                units.Add(CharString(c));
            }
            return units;
        }
        if (s.Length == 0)
        {
            return [s];
        }
        var parts = new List<object?>();
        var start = 0;
        var next = IndexOf(s, separator, 0);
        while (next >= 0)
        {
            parts.Add(s[start..next]);
            start = next + separator.Length;
            next = IndexOf(s, separator, start);
        }
        parts.Add(s[start..]);
        if (parts.Count > limits.MaxArrayLength)
        {
            throw new InterpreterRequiredException();
        }
        return parts;
    }

    private static string Replacement(string replacement)
    {
        // '$' starts a substitution pattern ($&, $`, $', $$); those are left to the interpreter.
        if (replacement.Contains('$'))
        {
            throw new InterpreterRequiredException();
        }
        return replacement;
    }

    public static string Budget(string value, ExpressionLimits limits) =>
        value.Length > limits.MaxStringLength ? throw new InterpreterRequiredException() : value;

    private static string Substring(string s, ReadOnlySpan<char> part) => part.Length == s.Length ? s : part.ToString();

    public static string CharString(char c) => c < 128 ? AsciiChars[c] : c.ToString();

    private static object? Arg(ReadOnlySpan<object?> args, int index) => index < args.Length ? args[index] : Undefined.Value;

    private static double Integer(object? value) => JsSemantics.ToIntegerOrInfinity(JsSemantics.ToNumber(value));

    private static int Clamp(double value, int length) => (int)Math.Clamp(value, 0, length);

    private static int Relative(double value, int length) => value < 0 ? (int)Math.Max(length + value, 0) : (int)Math.Min(value, length);
}
