using System.Globalization;
using System.Runtime.CompilerServices;
using Jint;
using Jint.Native;
using Jint.Native.Object;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// Records into Jint values and results back, by copy: the script gets its own objects, the caller gets plain
/// record values. Reading a result never runs script code (no getters, no proxies), because it happens after
/// the engine's time and memory limits have stopped watching.
/// </summary>
internal static class JintValues
{
    public const int MaxNesting = 512;

    public static JsValue ToJs(Engine engine, object? value, int depth = 0)
    {
        switch (value)
        {
            case null:
                return JsValue.Null;
            case string s:
                return new JsString(s);
            case double d:
                return JsNumber.Create(d);
            case bool b:
                return b ? JsBoolean.True : JsBoolean.False;
            case Record record:
                CheckNesting(depth, "The record");
                var obj = new JsObject(engine);
                foreach (var (key, field) in record)
                {
                    obj.FastSetDataProperty(key, ToJs(engine, field, depth + 1));
                }
                return obj;
            case List<object?> list:
                CheckNesting(depth, "The record");
                var items = new JsValue[list.Count];
                for (var i = 0; i < items.Length; i++)
                {
                    items[i] = ToJs(engine, list[i], depth + 1);
                }
                return new JsArray(engine, items);
            case int or long or float or decimal or short or byte or uint or ulong or sbyte or ushort:
                return JsNumber.Create(Convert.ToDouble(value, CultureInfo.InvariantCulture));
            default:
                throw new ExpressionException(
                    $"A record field holds a {value.GetType().Name}; expressions read strings, numbers, booleans, nulls, records and lists.");
        }
    }

    public static object? ToRecordValue(JsValue value, int depth = 0)
    {
        switch (value.Type)
        {
            case Jint.Runtime.Types.Undefined:
            case Jint.Runtime.Types.Null:
                return null;
            case Jint.Runtime.Types.Boolean:
                return value.AsBoolean();
            case Jint.Runtime.Types.Number:
                return value.AsNumber();
            case Jint.Runtime.Types.String:
                return value.ToString();
        }

        if (value is not ObjectInstance obj)
        {
            throw new ExpressionException($"The expression returned a {TypeName(value)}, which a record cannot hold.");
        }
        CheckNesting(depth, "The expression's result");
        if (obj.GetType() == typeof(JsArray))
        {
            var array = (JsArray)obj;
            var list = new List<object?>((int)Math.Min(array.Length, 1024));
            for (uint i = 0; i < array.Length; i++)
            {
                list.Add(ReadData(array.GetOwnProperty(JsNumber.Create(i)), i.ToString(CultureInfo.InvariantCulture), depth));
            }
            return list;
        }
        if (obj.GetType() == typeof(JsObject))
        {
            var record = new Record();
            foreach (var (key, descriptor) in obj.GetOwnProperties())
            {
                if (key.IsString() && descriptor.Enumerable)
                {
                    var name = key.ToString();
                    record[name] = ReadData(descriptor, name, depth);
                }
            }
            return record;
        }
        if (obj is JsDate date)
        {
            return double.IsNaN(date.DateValue)
                ? null
                : DateTimeOffset.FromUnixTimeMilliseconds((long)date.DateValue).UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
        }
        throw new ExpressionException($"The expression returned a {TypeName(value)}, which a record cannot hold; return plain data (objects, arrays, strings, numbers, booleans, null).");
    }

    private static object? ReadData(Jint.Runtime.Descriptors.PropertyDescriptor descriptor, string name, int depth)
    {
        if (descriptor == Jint.Runtime.Descriptors.PropertyDescriptor.Undefined)
        {
            return null;
        }
        if (descriptor.IsAccessorDescriptor())
        {
            throw new ExpressionException($"The expression returned an accessor property '{name}'; return plain data.");
        }
        return ToRecordValue(descriptor.Value, depth + 1);
    }

    private static string TypeName(JsValue value) => value switch
    {
        Jint.Native.Function.Function => "function",
        JsSymbol => "symbol",
        JsBigInt => "bigint",
        ObjectInstance obj => obj.GetType().Name.Replace("Instance", "", StringComparison.Ordinal).Replace("Js", "", StringComparison.Ordinal) + " object",
        _ => value.Type.ToString().ToLowerInvariant(),
    };

    private static void CheckNesting(int depth, string what)
    {
        if (depth > MaxNesting || !RuntimeHelpers.TryEnsureSufficientExecutionStack())
        {
            throw new ExpressionException($"{what} nests deeper than {MaxNesting} levels.");
        }
    }
}
