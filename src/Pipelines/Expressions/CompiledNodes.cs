using System.Runtime.CompilerServices;
using Saas.Pipelines.Records;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// One node of an expression compiled to .NET. A node returns a JavaScript value (see <see cref="JsSemantics"/>);
/// numeric and boolean consumers ask for <see cref="EvaluateNumber"/> and <see cref="EvaluateTruth"/> so the
/// common arithmetic and comparisons run without boxing. Any case a node does not model exactly throws
/// <see cref="InterpreterRequiredException"/>.
/// </summary>
internal abstract class CompiledNode
{
    public abstract object? Evaluate(Record record);

    public virtual double EvaluateNumber(Record record) => JsSemantics.ToNumber(Evaluate(record));

    public virtual bool EvaluateTruth(Record record) => JsSemantics.ToBoolean(Evaluate(record));

    public virtual bool YieldsNumber => false;

    public virtual bool YieldsString => false;
}

internal sealed class ConstantNode(object? value) : CompiledNode
{
    public object? Value { get; } = value;

    public override object? Evaluate(Record record) => Value;

    public override bool YieldsNumber => Value is double;

    public override bool YieldsString => Value is string;
}

internal sealed class RecordNode : CompiledNode
{
    public override object? Evaluate(Record record) => record;
}

/// <summary><c>record.name</c>: the hot path of nearly every expression.</summary>
internal sealed class FieldNode(string key) : CompiledNode
{
    public override object? Evaluate(Record record) =>
        record.TryGetValue(key, out var value) ? JsSemantics.Read(value) : Undefined.Value;

    public override double EvaluateNumber(Record record)
    {
        if (record.TryGetValue(key, out var value))
        {
            return value is double d ? d : JsSemantics.ToNumber(JsSemantics.Read(value));
        }
        return double.NaN;
    }

    public override bool EvaluateTruth(Record record) =>
        record.TryGetValue(key, out var value) && JsSemantics.ToBoolean(JsSemantics.Read(value));
}

/// <summary>A property name with what lookups need to know about it worked out once.</summary>
internal readonly struct PropertyKey
{
    public PropertyKey(string name)
    {
        Name = name;
        IsLength = name == "length";
        IsIndex = JsSemantics.TryArrayIndex(name, out Index);
        OnObjectPrototype = JsBuiltins.ObjectPrototypeNames.Contains(name);
        OnStringPrototype = JsBuiltins.StringPrototypeNames.Contains(name);
        OnArrayPrototype = JsBuiltins.ArrayPrototypeNames.Contains(name);
        OnNumberPrototype = JsBuiltins.NumberPrototypeNames.Contains(name);
        OnBooleanPrototype = JsBuiltins.BooleanPrototypeNames.Contains(name);
    }

    public readonly string Name;
    public readonly bool IsLength;
    public readonly bool IsIndex;
    public readonly uint Index;
    public readonly bool OnObjectPrototype;
    public readonly bool OnStringPrototype;
    public readonly bool OnArrayPrototype;
    public readonly bool OnNumberPrototype;
    public readonly bool OnBooleanPrototype;

    /// <summary>[[Get]] on a record value; a name the value inherits from a prototype is left to the interpreter.</summary>
    public object? GetFrom(object? target)
    {
        switch (target)
        {
            case Record fields:
                if (fields.TryGetValue(Name, out var value))
                {
                    return JsSemantics.Read(value);
                }
                return OnObjectPrototype ? throw new InterpreterRequiredException() : Undefined.Value;
            case string s:
                if (IsLength)
                {
                    return (double)s.Length;
                }
                if (IsIndex)
                {
                    return Index < s.Length ? JsBuiltins.CharString(s[(int)Index]) : Undefined.Value;
                }
                return OnStringPrototype ? throw new InterpreterRequiredException() : Undefined.Value;
            case List<object?> list:
                if (IsLength)
                {
                    return (double)list.Count;
                }
                if (IsIndex)
                {
                    return Index < list.Count ? JsSemantics.Read(list[(int)Index]) : Undefined.Value;
                }
                return OnArrayPrototype ? throw new InterpreterRequiredException() : Undefined.Value;
            case double:
                return OnNumberPrototype ? throw new InterpreterRequiredException() : Undefined.Value;
            case bool:
                return OnBooleanPrototype ? throw new InterpreterRequiredException() : Undefined.Value;
            default:
                throw new InterpreterRequiredException();
        }
    }
}

internal sealed class MemberNode(CompiledNode target, string key, bool optional) : CompiledNode
{
    private readonly PropertyKey _key = new(key);

    public override object? Evaluate(Record record)
    {
        var value = target.Evaluate(record);
        if (value == ShortCircuit.Value)
        {
            return value;
        }
        if (optional && JsSemantics.IsNullish(value))
        {
            return ShortCircuit.Value;
        }
        return _key.GetFrom(value);
    }
}

/// <summary><c>target[key]</c> with a key computed per record.</summary>
internal sealed class IndexNode(CompiledNode target, CompiledNode key, bool optional) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var value = target.Evaluate(record);
        if (value == ShortCircuit.Value)
        {
            return value;
        }
        if (optional && JsSemantics.IsNullish(value))
        {
            return ShortCircuit.Value;
        }
        var k = key.Evaluate(record);
        if (k is double d && JsSemantics.TryArrayIndex(d, out var index))
        {
            switch (value)
            {
                case string s:
                    return index < s.Length ? JsBuiltins.CharString(s[(int)index]) : Undefined.Value;
                case List<object?> list:
                    return index < list.Count ? JsSemantics.Read(list[(int)index]) : Undefined.Value;
            }
        }
        return new PropertyKey(JsSemantics.ToString(JsSemantics.ToPrimitive(k))).GetFrom(value);
    }
}

/// <summary>The whole of <c>a?.b.c</c>: turns a short-circuit inside the chain into <c>undefined</c>.</summary>
internal sealed class ChainNode(CompiledNode inner) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var value = inner.Evaluate(record);
        return value == ShortCircuit.Value ? Undefined.Value : value;
    }
}

internal sealed class NegateNode(CompiledNode operand) : CompiledNode
{
    public override object? Evaluate(Record record) => -operand.EvaluateNumber(record);

    public override double EvaluateNumber(Record record) => -operand.EvaluateNumber(record);

    public override bool YieldsNumber => true;
}

internal sealed class ToNumberNode(CompiledNode operand) : CompiledNode
{
    public override object? Evaluate(Record record) => operand.EvaluateNumber(record);

    public override double EvaluateNumber(Record record) => operand.EvaluateNumber(record);

    public override bool YieldsNumber => true;
}

internal sealed class NotNode(CompiledNode operand) : CompiledNode
{
    public override object? Evaluate(Record record) => JsSemantics.Box(!operand.EvaluateTruth(record));

    public override bool EvaluateTruth(Record record) => !operand.EvaluateTruth(record);
}

internal sealed class TypeOfNode(CompiledNode operand) : CompiledNode
{
    public override object? Evaluate(Record record) => JsSemantics.TypeOf(operand.Evaluate(record));

    public override bool YieldsString => true;
}

internal sealed class VoidNode(CompiledNode operand) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        operand.Evaluate(record);
        return Undefined.Value;
    }
}

internal sealed class BitwiseNotNode(CompiledNode operand) : CompiledNode
{
    public override object? Evaluate(Record record) => EvaluateNumber(record);

    public override double EvaluateNumber(Record record) => ~JsSemantics.ToInt32(operand.EvaluateNumber(record));

    public override bool YieldsNumber => true;
}

internal enum NumericOperator
{
    Subtract,
    Multiply,
    Divide,
    Remainder,
    Power,
    BitwiseAnd,
    BitwiseOr,
    BitwiseXor,
    LeftShift,
    RightShift,
    UnsignedRightShift,
}

internal sealed class NumericNode(NumericOperator op, CompiledNode left, CompiledNode right) : CompiledNode
{
    public override object? Evaluate(Record record) => EvaluateNumber(record);

    public override double EvaluateNumber(Record record)
    {
        var x = left.EvaluateNumber(record);
        var y = right.EvaluateNumber(record);
        return op switch
        {
            NumericOperator.Subtract => x - y,
            NumericOperator.Multiply => x * y,
            NumericOperator.Divide => x / y,
            NumericOperator.Remainder => x % y,
            NumericOperator.Power => JsBuiltins.Power(x, y),
            NumericOperator.BitwiseAnd => JsSemantics.ToInt32(x) & JsSemantics.ToInt32(y),
            NumericOperator.BitwiseOr => JsSemantics.ToInt32(x) | JsSemantics.ToInt32(y),
            NumericOperator.BitwiseXor => JsSemantics.ToInt32(x) ^ JsSemantics.ToInt32(y),
            NumericOperator.LeftShift => JsSemantics.ToInt32(x) << (int)(JsSemantics.ToUint32(y) & 31),
            NumericOperator.RightShift => JsSemantics.ToInt32(x) >> (int)(JsSemantics.ToUint32(y) & 31),
            _ => JsSemantics.ToUint32(x) >> (int)(JsSemantics.ToUint32(y) & 31),
        };
    }

    public override bool YieldsNumber => true;
}

/// <summary><c>a + b</c>: numeric addition or string concatenation, decided per record unless the operand types are known.</summary>
internal sealed class AddNode(CompiledNode left, CompiledNode right, ExpressionLimits limits) : CompiledNode
{
    private readonly bool _numeric = left.YieldsNumber && right.YieldsNumber;

    public override object? Evaluate(Record record)
    {
        if (_numeric)
        {
            return left.EvaluateNumber(record) + right.EvaluateNumber(record);
        }
        var a = left.Evaluate(record);
        var b = right.Evaluate(record);
        if (a is double x && b is double y)
        {
            return x + y;
        }
        if (a is string sa && b is string sb)
        {
            return JsBuiltins.Budget(string.Concat(sa, sb), limits);
        }
        a = JsSemantics.ToPrimitive(a);
        b = JsSemantics.ToPrimitive(b);
        if (a is string || b is string)
        {
            return JsBuiltins.Budget(string.Concat(JsSemantics.ToString(a), JsSemantics.ToString(b)), limits);
        }
        return JsSemantics.ToNumber(a) + JsSemantics.ToNumber(b);
    }

    public override double EvaluateNumber(Record record) =>
        _numeric ? left.EvaluateNumber(record) + right.EvaluateNumber(record) : JsSemantics.ToNumber(Evaluate(record));

    public override bool YieldsNumber => _numeric;

    public override bool YieldsString => left.YieldsString || right.YieldsString;
}

internal sealed class EqualityNode(CompiledNode left, CompiledNode right, bool strict, bool negate) : CompiledNode
{
    private readonly bool _numeric = left.YieldsNumber && right.YieldsNumber;

    public override object? Evaluate(Record record) => JsSemantics.Box(EvaluateTruth(record));

    public override bool EvaluateTruth(Record record)
    {
        bool equal;
        if (_numeric)
        {
            equal = left.EvaluateNumber(record) == right.EvaluateNumber(record);
        }
        else
        {
            var a = left.Evaluate(record);
            var b = right.Evaluate(record);
            equal = strict ? JsSemantics.StrictEquals(a, b) : JsSemantics.LooseEquals(a, b);
        }
        return equal != negate;
    }
}

internal enum RelationalOperator
{
    LessThan,
    GreaterThan,
    LessThanOrEqual,
    GreaterThanOrEqual,
}

internal sealed class RelationalNode(RelationalOperator op, CompiledNode left, CompiledNode right) : CompiledNode
{
    private readonly bool _numeric = left.YieldsNumber && right.YieldsNumber;

    public override object? Evaluate(Record record) => JsSemantics.Box(EvaluateTruth(record));

    public override bool EvaluateTruth(Record record)
    {
        if (_numeric)
        {
            var x = left.EvaluateNumber(record);
            var y = right.EvaluateNumber(record);
            return Compare(x, y);
        }
        var a = left.Evaluate(record);
        var b = right.Evaluate(record);
        if (a is double dx && b is double dy)
        {
            return Compare(dx, dy);
        }
        return op switch
        {
            RelationalOperator.LessThan => JsSemantics.LessThan(a, b) == true,
            RelationalOperator.GreaterThan => JsSemantics.LessThan(b, a) == true,
            RelationalOperator.LessThanOrEqual => JsSemantics.LessThan(b, a) == false,
            _ => JsSemantics.LessThan(a, b) == false,
        };
    }

    private bool Compare(double x, double y) => op switch
    {
        RelationalOperator.LessThan => x < y,
        RelationalOperator.GreaterThan => x > y,
        RelationalOperator.LessThanOrEqual => x <= y,
        _ => x >= y,
    };
}

internal sealed class AndNode(CompiledNode left, CompiledNode right) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var a = left.Evaluate(record);
        return JsSemantics.ToBoolean(a) ? right.Evaluate(record) : a;
    }

    public override bool EvaluateTruth(Record record) => left.EvaluateTruth(record) && right.EvaluateTruth(record);
}

internal sealed class OrNode(CompiledNode left, CompiledNode right) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var a = left.Evaluate(record);
        return JsSemantics.ToBoolean(a) ? a : right.Evaluate(record);
    }

    public override bool EvaluateTruth(Record record) => left.EvaluateTruth(record) || right.EvaluateTruth(record);
}

internal sealed class CoalesceNode(CompiledNode left, CompiledNode right) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var a = left.Evaluate(record);
        return JsSemantics.IsNullish(a) ? right.Evaluate(record) : a;
    }
}

internal sealed class ConditionalNode(CompiledNode test, CompiledNode whenTrue, CompiledNode whenFalse) : CompiledNode
{
    public override object? Evaluate(Record record) =>
        test.EvaluateTruth(record) ? whenTrue.Evaluate(record) : whenFalse.Evaluate(record);

    public override double EvaluateNumber(Record record) =>
        test.EvaluateTruth(record) ? whenTrue.EvaluateNumber(record) : whenFalse.EvaluateNumber(record);

    public override bool EvaluateTruth(Record record) =>
        test.EvaluateTruth(record) ? whenTrue.EvaluateTruth(record) : whenFalse.EvaluateTruth(record);

    public override bool YieldsNumber => whenTrue.YieldsNumber && whenFalse.YieldsNumber;

    public override bool YieldsString => whenTrue.YieldsString && whenFalse.YieldsString;
}

internal sealed class TemplateNode(string[] quasis, CompiledNode[] parts, ExpressionLimits limits) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        if (parts.Length == 1)
        {
            return JsBuiltins.Budget(string.Concat(quasis[0], JsSemantics.ToString(parts[0].Evaluate(record)), quasis[1]), limits);
        }
        var sb = new System.Text.StringBuilder();
        for (var i = 0; i < parts.Length; i++)
        {
            sb.Append(quasis[i]).Append(JsSemantics.ToString(parts[i].Evaluate(record)));
        }
        sb.Append(quasis[^1]);
        return JsBuiltins.Budget(sb.ToString(), limits);
    }

    public override bool YieldsString => true;
}

internal sealed class ArrayNode(CompiledNode[] items) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var list = new List<object?>(items.Length);
        foreach (var item in items)
        {
            list.Add(item.Evaluate(record));
        }
        return list;
    }
}

internal sealed class ObjectNode(string[] keys, CompiledNode[] values) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var result = new Record(keys.Length);
        for (var i = 0; i < keys.Length; i++)
        {
            result[keys[i]] = values[i].Evaluate(record);
        }
        return result;
    }
}

[InlineArray(4)]
internal struct ArgumentBuffer
{
    private object? _first;
}

internal sealed class FunctionCallNode(JsFunction function, CompiledNode[] arguments) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        if (arguments.Length > 4)
        {
            return JsBuiltins.Call(function, EvaluateAll(arguments, record));
        }
        var buffer = new ArgumentBuffer();
        return JsBuiltins.Call(function, Fill(ref buffer, arguments, record));
    }

    public override double EvaluateNumber(Record record)
    {
        if (function < JsFunction.MathAbs)
        {
            return JsSemantics.ToNumber(Evaluate(record));
        }
        if (arguments.Length > 4)
        {
            return JsBuiltins.CallMath(function, EvaluateAll(arguments, record));
        }
        var buffer = new ArgumentBuffer();
        return JsBuiltins.CallMath(function, Fill(ref buffer, arguments, record));
    }

    public override bool YieldsNumber => JsBuiltins.ReturnsNumber(function);

    public override bool YieldsString => function == JsFunction.String;

    internal static ReadOnlySpan<object?> Fill(ref ArgumentBuffer buffer, CompiledNode[] arguments, Record record)
    {
        for (var i = 0; i < arguments.Length; i++)
        {
            buffer[i] = arguments[i].Evaluate(record);
        }
        return ((ReadOnlySpan<object?>)buffer)[..arguments.Length];
    }

    internal static object?[] EvaluateAll(CompiledNode[] arguments, Record record)
    {
        var values = new object?[arguments.Length];
        for (var i = 0; i < arguments.Length; i++)
        {
            values[i] = arguments[i].Evaluate(record);
        }
        return values;
    }
}

/// <summary><c>target.method(args)</c> for the whitelisted pure methods; the receiver's runtime type picks the implementation.</summary>
internal sealed class MethodCallNode(CompiledNode target, JsMethod method, CompiledNode[] arguments, bool optional, ExpressionLimits limits) : CompiledNode
{
    public override object? Evaluate(Record record)
    {
        var receiver = target.Evaluate(record);
        if (receiver == ShortCircuit.Value)
        {
            return receiver;
        }
        if (optional && JsSemantics.IsNullish(receiver))
        {
            return ShortCircuit.Value;
        }
        if (arguments.Length > 4)
        {
            return JsBuiltins.Call(method, receiver, FunctionCallNode.EvaluateAll(arguments, record), limits);
        }
        var buffer = new ArgumentBuffer();
        return JsBuiltins.Call(method, receiver, FunctionCallNode.Fill(ref buffer, arguments, record), limits);
    }
}
