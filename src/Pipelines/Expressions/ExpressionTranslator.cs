using Acornima;
using Acornima.Ast;

namespace Saas.Pipelines.Expressions;

/// <summary>
/// Turns the parsed expression into <see cref="CompiledNode"/>s when every part of it is in the compiled subset;
/// returns null otherwise and the expression is interpreted by Jint instead.
/// </summary>
internal sealed class ExpressionTranslator(ExpressionLimits limits)
{
    private const string RecordName = "record";

    public CompiledNode? Translate(Expression expression) => expression switch
    {
        StringLiteral literal => new ConstantNode(literal.Value),
        NumericLiteral literal => new ConstantNode(literal.Value),
        BooleanLiteral literal => new ConstantNode(JsSemantics.Box(literal.Value is true)),
        NullLiteral => new ConstantNode(null),
        Identifier identifier => Identifier(identifier.Name),
        ParenthesizedExpression parenthesized => Translate(parenthesized.Expression),
        MemberExpression member => Member(member),
        ChainExpression chain => Translate(chain.Expression) is { } inner ? new ChainNode(inner) : null,
        CallExpression call => Call(call),
        NonUpdateUnaryExpression unary => Unary(unary),
        LogicalExpression logical => Logical(logical),
        NonLogicalBinaryExpression binary => Binary(binary),
        ConditionalExpression conditional => Conditional(conditional),
        TemplateLiteral template => Template(template),
        ArrayExpression array => Array(array),
        ObjectExpression obj => Object(obj),
        _ => null,
    };

    private static CompiledNode? Identifier(string name) => name switch
    {
        RecordName => new RecordNode(),
        "undefined" => new ConstantNode(Undefined.Value),
        "NaN" => new ConstantNode(double.NaN),
        "Infinity" => new ConstantNode(double.PositiveInfinity),
        _ => null,
    };

    private static string? StaticKey(MemberExpression member) => member switch
    {
        { Computed: false, Property: Identifier name } => name.Name,
        { Computed: true, Property: StringLiteral literal } => literal.Value,
        { Computed: true, Property: NumericLiteral literal } => JsNumberText.Format(literal.Value),
        _ => null,
    };

    private CompiledNode? Member(MemberExpression member)
    {
        var key = StaticKey(member);
        if (member.Object is Identifier { Name: var owner } && owner is "Math" or "Number" or RecordName)
        {
            if (key is null)
            {
                return owner == RecordName && member.Computed && Translate(member.Property) is { } dynamicKey
                    ? new IndexNode(new RecordNode(), dynamicKey, optional: false)
                    : null;
            }
            return owner switch
            {
                "Math" => JsBuiltins.MathConstants.TryGetValue(key, out var m) ? new ConstantNode(m) : null,
                "Number" => JsBuiltins.NumberConstants.TryGetValue(key, out var n) ? new ConstantNode(n) : null,
                _ => JsBuiltins.ObjectPrototypeNames.Contains(key) ? null : new FieldNode(key),
            };
        }

        var target = Translate(member.Object);
        if (target is null)
        {
            return null;
        }
        if (key is not null)
        {
            return new MemberNode(target, key, member.Optional);
        }
        if (!member.Computed)
        {
            return null;
        }
        var index = Translate(member.Property);
        return index is null ? null : new IndexNode(target, index, member.Optional);
    }

    private CompiledNode? Call(CallExpression call)
    {
        if (call.Optional)
        {
            return null;
        }
        var arguments = Arguments(call.Arguments);
        if (arguments is null)
        {
            return null;
        }

        switch (call.Callee)
        {
            case Identifier { Name: var name } when JsBuiltins.Globals.TryGetValue(name, out var global):
                return new FunctionCallNode(global, arguments);
            case MemberExpression member when StaticKey(member) is { } key:
                switch (member.Object)
                {
                    case Identifier { Name: "Math" }:
                        return JsBuiltins.MathFunctions.TryGetValue(key, out var math) ? new FunctionCallNode(math, arguments) : null;
                    case Identifier { Name: "Number" }:
                        return JsBuiltins.NumberFunctions.TryGetValue(key, out var number) ? new FunctionCallNode(number, arguments) : null;
                    case Identifier { Name: RecordName }:
                        return null;
                }
                if (!JsBuiltins.Methods.TryGetValue(key, out var method))
                {
                    return null;
                }
                var target = Translate(member.Object);
                return target is null ? null : new MethodCallNode(target, method, arguments, member.Optional, limits);
            default:
                return null;
        }
    }

    private CompiledNode[]? Arguments(in NodeList<Expression> arguments)
    {
        var nodes = new CompiledNode[arguments.Count];
        for (var i = 0; i < nodes.Length; i++)
        {
            if (arguments[i] is SpreadElement || Translate(arguments[i]) is not { } node)
            {
                return null;
            }
            nodes[i] = node;
        }
        return nodes;
    }

    private CompiledNode? Unary(UnaryExpression unary)
    {
        var operand = Translate(unary.Argument);
        if (operand is null)
        {
            return null;
        }
        return unary.Operator switch
        {
            Operator.UnaryNegation => new NegateNode(operand),
            Operator.UnaryPlus => new ToNumberNode(operand),
            Operator.LogicalNot => new NotNode(operand),
            Operator.TypeOf => new TypeOfNode(operand),
            Operator.Void => new VoidNode(operand),
            Operator.BitwiseNot => new BitwiseNotNode(operand),
            _ => null,
        };
    }

    private CompiledNode? Logical(LogicalExpression logical)
    {
        var left = Translate(logical.Left);
        var right = left is null ? null : Translate(logical.Right);
        if (left is null || right is null)
        {
            return null;
        }
        return logical.Operator switch
        {
            Operator.LogicalAnd => new AndNode(left, right),
            Operator.LogicalOr => new OrNode(left, right),
            Operator.NullishCoalescing => new CoalesceNode(left, right),
            _ => null,
        };
    }

    private CompiledNode? Binary(NonLogicalBinaryExpression binary)
    {
        var left = Translate(binary.Left);
        var right = left is null ? null : Translate(binary.Right);
        if (left is null || right is null)
        {
            return null;
        }
        return binary.Operator switch
        {
            Operator.Addition => new AddNode(left, right, limits),
            Operator.Subtraction => new NumericNode(NumericOperator.Subtract, left, right),
            Operator.Multiplication => new NumericNode(NumericOperator.Multiply, left, right),
            Operator.Division => new NumericNode(NumericOperator.Divide, left, right),
            Operator.Remainder => new NumericNode(NumericOperator.Remainder, left, right),
            Operator.Exponentiation => new NumericNode(NumericOperator.Power, left, right),
            Operator.BitwiseAnd => new NumericNode(NumericOperator.BitwiseAnd, left, right),
            Operator.BitwiseOr => new NumericNode(NumericOperator.BitwiseOr, left, right),
            Operator.BitwiseXor => new NumericNode(NumericOperator.BitwiseXor, left, right),
            Operator.LeftShift => new NumericNode(NumericOperator.LeftShift, left, right),
            Operator.RightShift => new NumericNode(NumericOperator.RightShift, left, right),
            Operator.UnsignedRightShift => new NumericNode(NumericOperator.UnsignedRightShift, left, right),
            Operator.Equality => new EqualityNode(left, right, strict: false, negate: false),
            Operator.Inequality => new EqualityNode(left, right, strict: false, negate: true),
            Operator.StrictEquality => new EqualityNode(left, right, strict: true, negate: false),
            Operator.StrictInequality => new EqualityNode(left, right, strict: true, negate: true),
            Operator.LessThan => new RelationalNode(RelationalOperator.LessThan, left, right),
            Operator.GreaterThan => new RelationalNode(RelationalOperator.GreaterThan, left, right),
            Operator.LessThanOrEqual => new RelationalNode(RelationalOperator.LessThanOrEqual, left, right),
            Operator.GreaterThanOrEqual => new RelationalNode(RelationalOperator.GreaterThanOrEqual, left, right),
            _ => null,
        };
    }

    private CompiledNode? Conditional(ConditionalExpression conditional)
    {
        var test = Translate(conditional.Test);
        var whenTrue = test is null ? null : Translate(conditional.Consequent);
        var whenFalse = whenTrue is null ? null : Translate(conditional.Alternate);
        return whenFalse is null ? null : new ConditionalNode(test!, whenTrue!, whenFalse);
    }

    private CompiledNode? Template(TemplateLiteral template)
    {
        var quasis = new string[template.Quasis.Count];
        for (var i = 0; i < quasis.Length; i++)
        {
            if (template.Quasis[i].Value.Cooked is not { } cooked)
            {
                return null;
            }
            quasis[i] = cooked;
        }
        if (template.Expressions.Count == 0)
        {
            return new ConstantNode(quasis[0]);
        }
        var parts = Arguments(template.Expressions);
        return parts is null ? null : new TemplateNode(quasis, parts, limits);
    }

    private CompiledNode? Array(ArrayExpression array)
    {
        var items = new CompiledNode[array.Elements.Count];
        for (var i = 0; i < items.Length; i++)
        {
            if (array.Elements[i] is not { } element || element is SpreadElement || Translate(element) is not { } node)
            {
                return null;
            }
            items[i] = node;
        }
        return new ArrayNode(items);
    }

    private CompiledNode? Object(ObjectExpression obj)
    {
        var keys = new string[obj.Properties.Count];
        var values = new CompiledNode[keys.Length];
        for (var i = 0; i < keys.Length; i++)
        {
            if (obj.Properties[i] is not ObjectProperty { Kind: PropertyKind.Init, Computed: false, Method: false } property
                || property.Value is not Expression value)
            {
                return null;
            }
            var key = property.Key switch
            {
                Identifier identifier => identifier.Name,
                StringLiteral literal => literal.Value,
                _ => null,
            };
            // "__proto__" sets the prototype and index-like keys reorder: both are the interpreter's business.
            if (key is null || key == "__proto__" || JsSemantics.TryArrayIndex(key, out _) || Translate(value) is not { } node)
            {
                return null;
            }
            keys[i] = key;
            values[i] = node;
        }
        return new ObjectNode(keys, values);
    }
}
